import pytest

from beian.models import Province

pytestmark = pytest.mark.django_db


def test_the_31_mainland_provinces_with_their_filing_abbreviations():
    provinces = {p.code: p for p in Province.objects.all()}
    assert len(provinces) == 31
    assert provinces["11"].abbr == "京"
    assert provinces["31"].abbr == "沪"
    assert provinces["44"].abbr == "粤"
    assert provinces["51"].abbr == "蜀"
    assert provinces["62"].abbr == "陇"
    assert provinces["11"].bureau_name == "北京市通信管理局"
    assert len({p.abbr for p in provinces.values()}) == 31
