"""Provider import rows (SPEC §6): the CSV file and its template, each row checked, the reports.

Every row is checked by the same rules as the owner's wizard (``filings.validation``) and
succeeds or fails whole; a row is known by its client username: a username this provider
imported before answers ``exists`` and changes nothing, so sending the same rows again creates
nothing twice. Nothing here writes: ``providers.import_jobs`` creates the accounts and submits
their filings, and processes a file's rows a chunk at a time.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import AccessProvider, User
from accounts.validators import validate_mainland_mobile, validate_real_email, validate_username
from beian.coded import is_coded
from beian.coded import render as render_message
from beian.models import Province
from beian.normalforms.certificates import resident_id_check_digit, uscc_check_character
from beian.normalforms.text import folded, unreadable_text_code, unreadable_text_message
from filings.models import Filing, Identifier, Website
from filings.services import FilingInvalid
from filings.stages import CHECKLIST, CHECKLIST_CODES
from filings.validation import (
    SHORTHAND_METHOD,
    StructureError,
    coerce_data,
    validate_filing_data,
)

from .models import ImportJob, ImportRow
from .services import AccessWithdrawal


@dataclass
class RowResult:
    """A row's answer: ``status`` is an ``ImportRow.Status`` (``created``, ``exists`` or
    ``error``); ``errors`` nested like the validation's, keyed by field path."""

    row: int
    status: str
    username: str = ""
    initial_password: str | None = None
    filing: Any = None
    errors: dict = field(default_factory=dict)


# Rows ---------------------------------------------------------------------------------------


def _message_list(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _clean_client(client: Any) -> tuple[dict, dict]:
    """The client's username, email and mobile in normal form, or field errors."""
    if not isinstance(client, dict):
        return {}, {"client": [_("Give the client as an object with username, email, mobile.")]}
    clean, errors = {}, {}
    for name, validator in (
        ("username", validate_username),
        ("email", validate_real_email),
        ("mobile", validate_mainland_mobile),
    ):
        value = client.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = [_("This field is required.")]
            continue
        if message := unreadable_text_message(value):
            errors[name] = [message]
            continue
        try:
            clean[name] = validator(value)
        except ValidationError as exc:
            errors[name] = _message_list(exc)
    return clean, ({"client": errors} if errors else {})


def _own_access(website: Any, provider: AccessProvider) -> Any:
    if not isinstance(website, dict):
        return website
    accesses = website.get("accesses")
    if isinstance(accesses, list):
        return {
            **website,
            "accesses": [
                {**a, "provider": provider.pk}
                if isinstance(a, dict) and a.get("provider") in (None, "")
                else a
                for a in accesses
            ],
        }
    if website.get("access_provider") in (None, ""):
        return {**website, "access_provider": provider.pk}
    return website


def with_provider_defaults(filing: Any, provider: AccessProvider) -> Any:
    """The filing data of a row (SPEC §10 shape, as given) with the importing ``provider``'s
    id as the provider of each access of a website or app (SPEC §13) that names none
    (SPEC §12: a row files the importing provider's accesses only)."""
    if not isinstance(filing, dict):
        return filing
    for part in ("websites", "apps"):
        services = filing.get(part)
        if isinstance(services, list):
            filing = {**filing, part: [_own_access(s, provider) for s in services]}
    return filing


def error_dict(exc: Exception) -> dict:
    """The problems an exception carries (``FilingInvalid.errors``, a ``FilingError``'s
    message, a ``ValidationError``'s) as JSON-ready errors keyed by field (``""`` for the row)."""
    errors = getattr(exc, "errors", None)
    if errors is None and getattr(exc, "message", None):
        errors = [exc.message]
    if errors is None and isinstance(exc, ValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    if isinstance(errors, dict):
        return {k: _jsonable(v) for k, v in errors.items()}
    return {"": [str(m) for m in (errors or [str(exc)])]}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, ValidationError):
        return [str(m) for m in value.messages]
    return str(value)


def _client_values(payloads: list[Any], name: str, normalise) -> set[str]:
    values = set()
    for p in payloads:
        client = p.get("client") if isinstance(p, dict) else None
        value = client.get(name) if isinstance(client, dict) else None
        if isinstance(value, str) and value.strip():
            try:
                values.add(normalise(value))
            except ValidationError:
                continue
    return values


class ImportBatch:
    """What a batch needs to know about existing accounts, read in three queries rather than
    a few per row: usernames imported before or taken, emails and mobiles in use."""

    def __init__(self, provider: AccessProvider, payloads: list[Any]) -> None:
        self.provider = provider
        # The filings' reference data, when the caller has read it already.
        self.reference = None
        names = _client_values(payloads, "username", lambda v: v.strip().lower())
        emails = _client_values(payloads, "email", lambda v: validate_real_email(v).lower())
        mobiles = _client_values(payloads, "mobile", validate_mainland_mobile)
        self.mine: dict[str, User] = {}
        self.taken: set[str] = set()
        if names:
            for user in (
                User.objects.annotate(lname=Lower("username"))
                .filter(lname__in=names)
                .select_related("filing")
            ):
                if user.imported_by_id == provider.pk and user.role == User.Role.OWNER:
                    self.mine[user.lname] = user
                else:
                    self.taken.add(user.lname)
        self.emails = (
            set(
                User.objects.annotate(lemail=Lower("email"))
                .filter(lemail__in=emails, is_active=True)
                .values_list("lemail", flat=True)
            )
            if emails
            else set()
        )
        self.mobiles = (
            set(
                User.objects.filter(mobile__in=mobiles, is_active=True).values_list(
                    "mobile", flat=True
                )
            )
            if mobiles
            else set()
        )

    def remember(self, key: str, user: User) -> None:
        self.mine[key] = user
        self.emails.add(user.email.lower())
        self.mobiles.add(user.mobile)


def _put_at_path(target: dict, path: str, value: Any) -> None:
    """Set ``value`` at a field path (``websites.0.ips``) in nested dicts and lists, making
    the dicts and lists the path passes through and replacing what was at its end: the CSV
    row's payload, and the problems of its cells in errors shaped as the validation's."""
    keys = path.split(".")
    node: Any = target
    for key, following in zip(keys, keys[1:], strict=False):
        if isinstance(node, list):
            index = int(key)
            while len(node) <= index:
                node.append({})
            node = node[index]
            continue
        child = node.get(key)
        wanted = list if following.isdigit() else dict
        if not isinstance(child, wanted):
            child = node[key] = wanted()
        node = child
    if isinstance(node, dict):
        node[keys[-1]] = value


def _with_cell_errors(payload: Any, errors: dict) -> dict:
    """``errors`` with the problems of the CSV cells themselves, which say better than the
    validation what happened to the value (a number a spreadsheet rounded, say)."""
    cells = payload.get("cell_errors") if isinstance(payload, dict) else None
    if not isinstance(cells, dict):
        return errors
    for path, messages in cells.items():
        _put_at_path(errors, path if path.startswith("client.") else f"filing.{path}", messages)
    return errors


def _filing_problems(payload: Any, provider: AccessProvider, reference=None) -> dict:
    """The filing's problems of a row, ``{"filing": …}`` or empty, found without writing."""
    if not isinstance(payload, dict) or not isinstance(payload.get("filing"), dict):
        return {}
    data, errors = submitted_data(with_provider_defaults(payload["filing"], provider))
    if data is None:
        return errors
    _cleaned, problems = validate_filing_data(
        data,
        filing=Filing(filed_by_provider=provider),
        reference=reference,
        acting_provider=provider.pk,
    )
    return {"filing": error_dict(FilingInvalid(problems))} if problems else {}


def check_client(
    *, index: int, payload: Any, batch: ImportBatch
) -> tuple[RowResult | None, dict, str, str]:
    """The row's answer when its client part settles it (a repeat, or errors), else None;
    with the clean client, the username as given and its lookup key. A row with errors in
    its client part is answered with every problem of its filing too, and of its cells."""
    if not isinstance(payload, dict):
        return (
            RowResult(index, ImportRow.Status.ERROR, errors={"": [_("Not an object.")]}),
            {},
            "",
            "",
        )
    client, errors = _clean_client(payload.get("client"))
    raw_client = payload.get("client")
    raw_username = raw_client.get("username", "") if isinstance(raw_client, dict) else ""
    username = client.get("username") or str(raw_username or "")
    key = username.strip().lower()
    if key in batch.mine:
        user = batch.mine[key]
        result = RowResult(
            index,
            ImportRow.Status.EXISTS,
            username=user.username,
            filing=getattr(user, "filing", None),
        )
        return result, client, username, key
    if key and key in batch.taken:
        errors.setdefault("client", {})["username"] = [
            _("This username is taken. Choose another username for this client.")
        ]
    if client.get("email") and client["email"].lower() in batch.emails:
        errors.setdefault("client", {})["email"] = [
            _("An account with this email address exists already. Use another address.")
        ]
    if client.get("mobile") and client["mobile"] in batch.mobiles:
        errors.setdefault("client", {})["mobile"] = [
            _("An account with this mobile number exists already. Use another number.")
        ]
    if not isinstance(payload.get("filing"), dict):
        errors["filing"] = [_("Give the filing as an object in the filing API shape.")]
    elif errors or payload.get("cell_errors"):
        errors.update(_filing_problems(payload, batch.provider, batch.reference))
    _with_cell_errors(payload, errors)
    if errors:
        return (
            RowResult(index, ImportRow.Status.ERROR, username=username, errors=errors),
            client,
            username,
            key,
        )
    return None, client, username, key


def submitted_data(data: Any) -> tuple[dict | None, dict]:
    """The filing data as ``filing_submit`` validates it after ``filing_save_data`` saved it
    for a new filing (no service numbers yet), or the errors either of them raises."""
    try:
        canonical = coerce_data(data)
    except StructureError as exc:
        return None, {"filing": error_dict(FilingInvalid(exc.errors))}
    for part in ("websites", "apps", "mini_programs"):
        for service in canonical[part]:
            service["number"] = None
    return coerce_data(canonical), {}


def submitted_datas(
    provider: AccessProvider, items: list[tuple[int, Any]]
) -> dict[int, tuple[dict | None, dict]]:
    """``submitted_data`` of each row (index, payload) that gives its filing as an object,
    websites without an access provider served by ``provider``; by row index."""
    return {
        index: submitted_data(with_provider_defaults(payload["filing"], provider))
        for index, payload in items
        if isinstance(payload, dict) and isinstance(payload.get("filing"), dict)
    }


@dataclass
class AcceptedRow:
    """A row that passed every check: its clean client part (username, email, mobile), the
    username's lookup key, its valid filing data (SPEC §10 shape) and the new filing, unsaved,
    that the data was checked for."""

    client: dict
    key: str
    data: dict
    filing: Filing
    checklist: list[str] | None = None


def check_row(
    *,
    index: int,
    payload: Any,
    batch: ImportBatch,
    submitted: dict[int, tuple[dict | None, dict]],
) -> RowResult | AcceptedRow:
    """A row checked in its batch as the one-row path would: its answer when it is a repeat
    or has problems, else what it creates. ``submitted`` is ``submitted_datas`` of the batch;
    ``batch.reference`` the reference data of the whole batch, when loaded."""
    settled, client, username, key = check_client(index=index, payload=payload, batch=batch)
    if settled is not None:
        return settled
    data, errors = submitted[index]
    filing = Filing(filed_by_provider=batch.provider)
    if data is not None:
        data, problems = validate_filing_data(
            data, filing=filing, reference=batch.reference, acting_provider=batch.provider.pk
        )
        if problems:
            errors = {"filing": error_dict(FilingInvalid(problems))}
    checklist, attestation_errors = attestation_checklist(payload)
    errors = {**errors, **attestation_errors}
    if errors:
        return RowResult(index, ImportRow.Status.ERROR, username=username, errors=errors)
    return AcceptedRow(client=client, key=key, data=data, filing=filing, checklist=checklist)


def attestation_checklist(payload: Any) -> tuple[list[str] | None, dict]:
    """What a row attests the provider checked in its first review (SPEC §12):
    ``{"attestation": {"checklist": [codes]}}``, codes of ``filings.stages.CHECKLIST``. None
    without an attestation; errors ``{"attestation": {"checklist": [...]}}`` for a code that
    is not one of them, or a value that is not a list."""
    attestation = payload.get("attestation") if isinstance(payload, dict) else None
    if attestation is None:
        return None, {}
    codes = attestation.get("checklist") if isinstance(attestation, dict) else None
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        message = _("Give the checks made as a list of codes: %(codes)s.") % {
            "codes": ", ".join(CHECKLIST_CODES)
        }
        return None, {"attestation": {"checklist": [message]}}
    unknown = [c for c in codes if c not in CHECKLIST_CODES]
    if unknown:
        message = _("“%(code)s” is not a check of the list; use %(codes)s.") % {
            "code": unknown[0][:50],
            "codes": ", ".join(CHECKLIST_CODES),
        }
        return None, {"attestation": {"checklist": [message]}}
    return [c for c in CHECKLIST_CODES if c in set(codes)], {}


# CSV ----------------------------------------------------------------------------------------

# The file's columns: Chinese headers (the file format, not translated) and where each value
# goes in the filing API shape. One website per row; the API takes several.
COLUMNS: list[tuple[str, str]] = [
    ("用户名", "client.username"),
    ("电子邮箱", "client.email"),
    ("手机号码", "client.mobile"),
    ("主办单位性质", "sponsor.nature"),
    ("主办单位名称", "sponsor.name"),
    ("主办单位证件类型", "sponsor.id_type"),
    ("主办单位证件号码", "sponsor.id_number"),
    ("主办单位所在省份", "sponsor.province"),
    ("主办单位通讯地址", "sponsor.address"),
    ("负责人姓名", "sponsor.principal.name"),
    ("负责人证件类型", "sponsor.principal.id_type"),
    ("负责人证件号码", "sponsor.principal.id_number"),
    ("负责人手机号码", "sponsor.principal.mobile"),
    ("负责人电子邮箱", "sponsor.principal.email"),
    ("网站名称", "websites.0.name"),
    ("网站首页网址", "websites.0.homepage"),
    ("网站域名", "websites.0.domains"),
    ("网站IP地址", "websites.0.ips"),
    ("网站服务内容", "websites.0.services"),
    ("服务器放置地点", "websites.0.server_location"),
    ("是否经营性", "websites.0.commercial"),
    # What the provider checked in its first review (SPEC §12); a file without it attests
    # nothing.
    ("核验项目", "attestation.checklist"),
]
# An app and a mini-program of the row (SPEC §13), after the website's columns: each optional
# in the file, and in a row whose cells of one are all empty there is none. A row may file an
# app or a mini-program without a website (its website cells empty). An app's platforms are
# its platform columns that are filled (``apps.0.platforms.<platform>.…``, listed in the order
# android, ios, harmonyos); its one access is at the importing provider, method ``other``, as
# a website's row gives it.
APP_COLUMNS: list[tuple[str, str]] = [
    ("App名称", "apps.0.name"),
    ("App安卓包名", "apps.0.platforms.android.identifier"),
    ("App安卓公钥", "apps.0.platforms.android.public_key"),
    ("App安卓签名MD5值", "apps.0.platforms.android.fingerprint"),
    ("AppiOS Bundle ID", "apps.0.platforms.ios.identifier"),
    ("AppiOS公钥", "apps.0.platforms.ios.public_key"),
    ("AppiOS签名SHA-1值", "apps.0.platforms.ios.fingerprint"),
    ("App鸿蒙包名", "apps.0.platforms.harmonyos.identifier"),
    ("App鸿蒙公钥", "apps.0.platforms.harmonyos.public_key"),
    ("App鸿蒙签名MD5值", "apps.0.platforms.harmonyos.fingerprint"),
    ("App使用域名", "apps.0.domains"),
    ("App分发平台", "apps.0.stores"),
    ("App服务内容", "apps.0.services"),
    ("App是否经营性", "apps.0.commercial"),
    ("AppIP地址", "apps.0.accesses.0.ips"),
    ("App服务器放置地点", "apps.0.accesses.0.server_location"),
    ("小程序名称", "mini_programs.0.name"),
    ("小程序平台", "mini_programs.0.platform"),
    ("小程序AppID", "mini_programs.0.platform_id"),
    ("小程序服务内容", "mini_programs.0.services"),
    ("小程序是否经营性", "mini_programs.0.commercial"),
]
COLUMNS += APP_COLUMNS
HEADERS = [h for h, _path in COLUMNS]
OPTIONAL_HEADERS = {"核验项目", *(h for h, _path in APP_COLUMNS)}
# The parts of a row that are services: a part whose cells are all empty is not filed.
SERVICE_PARTS = ("websites.0.", "apps.0.", "mini_programs.0.")
APP_PLATFORMS = ("android", "ios", "harmonyos")
LIST_SEPARATORS = ";；,，、 \t\n"
# Service labels hold spaces in English ("corporate website"): only punctuation separates.
SERVICE_SEPARATORS = ";；、\t\n"

# The coded columns take the code, the Chinese label or the English label of a value: the
# labels the wizard shows (``filings.models``), so the file and the pages can never drift
# apart. A few older spellings stay accepted.
ALIASES = {
    "sponsor.nature": {"其他": "other"},
    # Residence permits of Hong Kong, Macao and Taiwan residents carry resident identity
    # numbers (starting 81, 82, 83) and are filed as such.
    "id_type": {
        "身份证": "resident_id",
        "港澳居民居住证": "resident_id",
        "台湾居民居住证": "resident_id",
        "港澳台居民居住证": "resident_id",
        "其他": "other",
    },
    "services": {"博客": "blog", "个人空间": "blog", "门户": "portal", "其他": "other"},
    "mini_programs.0.platform": {
        "微信": "wechat",
        "微信小程序": "wechat",
        "支付宝": "alipay",
        "支付宝小程序": "alipay",
        "百度": "baidu",
        "百度智能小程序": "baidu",
        "抖音": "douyin",
        "字节跳动": "douyin",
        "抖音小程序": "douyin",
        "QQ小程序": "qq",
        "其它": "other",
        "其他": "other",
    },
}
# The cell of an app's distribution platforms: "other" in the words people use.
OTHER_STORE = ("其它", "其他", "other")
# The pages' term is 其它; 其他, as often typed, is taken too.
OTHER_LOCATION = ("其它", "其他", "境外", "other")
YES = {"是", "y", "yes", "true", "1"}
NO = {"否", "n", "no", "false", "0", ""}
# What a spreadsheet may write around a value it was told to keep as text: a leading
# apostrophe ('110105…), or a formula ="0101…".
_KEPT_AS_TEXT = re.compile(r'^(?:\'(?P<quoted>.*)|="(?P<formula>.*)")$', re.DOTALL)
# A number a spreadsheet showed in scientific notation (1.10105E+17) and saved so.
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")


def _choices(path: str):
    if path == "sponsor.nature":
        return Filing.Nature.choices
    if path.endswith("id_type"):
        return Filing.IdType.choices
    if path == "mini_programs.0.platform":
        return [
            (code, label)
            for code, label in Identifier.Platform.choices
            if code in Identifier.MINI_PROGRAM_PLATFORMS
        ]
    return Website.Service.choices


def _vocabulary_kind(path: str) -> str:
    """Which vocabulary a coded column's path uses (``ALIASES``' keys)."""
    if path.endswith("id_type"):
        return "id_type"
    if path.endswith("services"):
        return "services"
    return path


def vocabulary(path: str) -> list[tuple[str, str, str]]:
    """(code, Chinese label, English label) of each value of a coded column."""
    out = []
    for code, label in _choices(path):
        with translation.override("zh-hans"):
            zh = str(label)
        with translation.override("en"):
            en = str(label)
        out.append((code, zh, en))
    return out


def _vocabulary_key(text: str) -> str:
    return "".join(folded(text).split()).casefold()


@functools.lru_cache(maxsize=8)
def _lookup(path: str) -> dict[str, str]:
    kind = _vocabulary_kind(path)
    table = {_vocabulary_key(k): v for k, v in ALIASES.get(kind, {}).items()}
    for code, zh, en in vocabulary(path):
        for text in (code, zh, en):
            table[_vocabulary_key(text)] = code
    return table


def coded(path: str, text: str) -> str:
    """The code a coded column's cell names; the cell as it is when it names none, for the
    filing validation to refuse with the list."""
    return _lookup(path).get(_vocabulary_key(text), text)


def _split_list_cell(value: str, separators: str = LIST_SEPARATORS) -> list[str]:
    """The values of a cell that lists several, split at any of ``separators``."""
    parts = [value]
    for sep in separators:
        parts = [p for chunk in parts for p in chunk.split(sep)]
    return [p.strip() for p in parts if p.strip()]


def _province_codes() -> dict[str, str]:
    """Province code by every way a cell may name it: the code, the Chinese name with or
    without its 省/市/自治区, and the English name the pages show (in any case, as
    ``_province``'s look-up casefolds)."""
    codes = {}
    for code, name, name_en in Province.objects.values_list("code", "name", "name_en"):
        codes[code] = code
        codes[name] = code
        if name_en:
            codes.setdefault(" ".join(name_en.split()).casefold(), code)
        for suffix in ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区"):
            if name.endswith(suffix):
                codes.setdefault(name.removesuffix(suffix), code)
    return codes


def _province(raw: str, provinces: dict[str, str]) -> str:
    """The code of the province a cell names, or the cell as it is for the validation to
    name the problem."""
    return provinces.get(raw) or provinces.get(" ".join(raw.split()).casefold(), raw)


SCIENTIFIC_NOTATION_MESSAGE = gettext_noop(
    "“%(value)s” is how a spreadsheet shows a long number it has rounded: the "
    "digits after the first few are lost. Format the column as text (or type an "
    "apostrophe before the number), enter the whole number again and save the "
    "file as CSV."
)


def _cell(raw: str, path: str, cell_errors: dict) -> str:
    """A cell as the person meant it: what a spreadsheet adds to keep a value as text
    removed, and a number it turned into scientific notation reported.

    A cell's problems are kept as coded messages (``beian.coded``): the file is read in
    the uploader's language, the report in its reader's."""
    text = (raw or "").strip()
    if code := unreadable_text_code(text):
        # Reported on its cell; the rest of the row and of the file are still read.
        cell_errors[path] = [{"code": code, "params": {}}]
        return ""
    kept = _KEPT_AS_TEXT.match(text)
    if kept:
        text = (kept["quoted"] if kept["quoted"] is not None else kept["formula"]).strip()
    elif _SCIENTIFIC.match(text):
        cell_errors[path] = [{"code": SCIENTIFIC_NOTATION_MESSAGE, "params": {"value": text}}]
    return text


def _services(path: str, raw: str) -> list[str]:
    """The service codes of a cell. A label may hold a comma ("radio, film and television
    programmes"), so a piece is split at commas only when it is not a label as a whole."""
    codes = []
    for piece in _split_list_cell(raw, SERVICE_SEPARATORS):
        if _vocabulary_key(piece) in _lookup(path):
            codes.append(coded(path, piece))
        else:
            codes.extend(coded(path, p) for p in _split_list_cell(piece, ",，"))
    return codes


UNKNOWN_STORE_MESSAGE = gettext_noop(
    "“%(value)s” is not a registered distribution platform: write its name as registered "
    "(or its id), or 其它 for a platform not in the list."
)


def _stores(path: str, raw: str, stores: dict[str, int], cell_errors: dict) -> list:
    """The distribution platforms a cell names, by registered name (any case and width) or
    id, ``"other"`` for 其它; a name that is no registered platform's is reported on its
    cell and left out."""
    chosen: list = []
    for piece in _split_list_cell(raw, SERVICE_SEPARATORS + ",，"):
        key = _vocabulary_key(piece)
        if key in OTHER_STORE:
            chosen.append("other")
        elif key.isascii() and key.isdigit():
            chosen.append(int(key))
        elif key in stores:
            chosen.append(stores[key])
        else:
            cell_errors.setdefault(path, []).append(
                {"code": UNKNOWN_STORE_MESSAGE, "params": {"value": piece[:64]}}
            )
    return chosen


def _store_ids() -> dict[str, int]:
    """The active registered distribution platforms (SPEC §13) by name, as ``_stores``
    compares a cell's names."""
    return {
        _vocabulary_key(name): pk
        for pk, name in AccessProvider.objects.filter(
            is_active=True, is_distribution_platform=True
        ).values_list("pk", "name")
    }


def _services_of_row(filing: dict, filled: set[str]) -> None:
    """The row's services as the API takes them: a part none of whose cells was filled
    (``filled``: the ``SERVICE_PARTS`` that were) is left out (the website too when the row
    files an app or a mini-program), an app's platform columns become its ``platforms`` and
    its access the shorthand method's."""
    if "websites.0." not in filled and filled:
        filing["websites"] = []
    for part in ("apps", "mini_programs"):
        if f"{part}.0." not in filled:
            filing.pop(part, None)
    app = (filing.get("apps") or [None])[0]
    if app is None:
        return
    given = app.get("platforms") or {}
    app["platforms"] = [
        {"platform": platform, **given[platform]}
        for platform in APP_PLATFORMS
        if any(given.get(platform, {}).values())
    ]
    for access in app.get("accesses") or []:
        access.setdefault("method", SHORTHAND_METHOD)


def csv_row_payload(
    cells: dict[str, str], provinces: dict[str, str], stores: dict[str, int] | None = None
) -> dict:
    """One CSV row in the import API shape. Coded columns take codes or the labels in
    either language; anything unknown is passed on as it is, for the filing validation to
    name. Problems of the cells themselves go into ``cell_errors`` (field path → messages).
    ``stores``: the registered distribution platforms by name (``_store_ids``)."""
    payload: dict = {}
    cell_errors: dict[str, list[dict]] = {}
    filled: set[str] = set()
    for header, path in COLUMNS:
        raw = _cell(cells.get(header) or "", path, cell_errors)
        value: Any = raw
        last = path.rsplit(".", 1)[-1]
        part = next((p for p in SERVICE_PARTS if path.startswith(p)), None)
        if part and raw:
            filled.add(part)
        if path == "sponsor.nature" or last == "id_type" or path == "mini_programs.0.platform":
            value = coded(path, raw)
        elif last == "stores":
            value = _stores(path, raw, stores or {}, cell_errors)
        elif path == "sponsor.province":
            value = _province(raw, provinces)
        elif last == "server_location":
            value = "other" if raw.casefold() in OTHER_LOCATION else _province(raw, provinces)
        elif last in {"domains", "ips"}:
            value = _split_list_cell(raw)
        elif last == "services":
            value = _services(path, raw)
        elif last == "commercial":
            value = True if raw.lower() in YES else (False if raw.lower() in NO else raw)
        if path == "attestation.checklist":
            if raw:
                payload["attestation"] = {"checklist": _split_list_cell(raw)}
            continue
        if path.startswith("client."):
            payload.setdefault("client", {})[last] = value
        else:
            _put_at_path(payload.setdefault("filing", {}), path, value)
    _services_of_row(payload.setdefault("filing", {}), filled)
    if cell_errors:
        payload["cell_errors"] = cell_errors
    return payload


def decode_csv(data: bytes) -> str:
    """The text of an uploaded CSV file: UTF-8 (with or without a BOM), else GB18030 (as
    spreadsheet programs in China save it); ``ValidationError`` when it is neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        _("The file is neither UTF-8 nor GB18030 text. Save it from the template as CSV.")
    )


def read_csv(
    data: bytes,
    *,
    headers: list[str],
    max_rows: int,
    optional: frozenset[str] | set[str] = frozenset(),
    aliases: dict[str, str] | None = None,
) -> list[tuple[int, dict[str, str]]]:
    """(line number, {header: cell}) for every row of an uploaded CSV file that is neither
    empty nor a note (a first cell starting with #), the line number the file's line the row
    starts on (a quoted cell may span lines). A header cell named in ``aliases``
    (compared without case) counts as the header it maps to.

    Raises ``ValidationError`` for a problem of the whole file: not UTF-8 or GB18030, empty,
    not CSV, lacking one of ``headers`` (``optional`` ones aside), more than ``max_rows``
    rows."""
    text = decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    aliases = {k.lower(): v for k, v in (aliases or {}).items()}
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise ValidationError(_("The file is empty. Start from the template.")) from exc
    except csv.Error as exc:
        raise ValidationError(_("The file is not a readable CSV file.")) from exc
    header = [aliases.get(h.lower(), h) for h in header]
    missing = [h for h in headers if h not in header and h not in optional]
    if missing:
        raise ValidationError(
            _("The file lacks these columns of the template: %(columns)s.")
            % {"columns": "、".join(missing)}
        )
    rows = []
    # The line a record starts on: a quoted cell may hold line breaks, and ``line_num`` counts
    # the file's lines read so far, the record's last one included.
    start = reader.line_num + 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue  # empty, or the template's example and notes
            if len(rows) >= max_rows:
                raise ValidationError(
                    _("A file may hold at most %(count)s rows. Split it into several files.")
                    % {"count": max_rows}
                )
            rows.append((line, dict(zip(header, cells, strict=False))))
    except csv.Error as exc:
        raise ValidationError(
            _("Line %(line)s of the file cannot be read as CSV.") % {"line": start}
        ) from exc
    return rows


def parse_csv(data: bytes) -> list[tuple[int, dict]]:
    """(line number, payload) for every non-empty row; a file-level problem raises."""
    named_rows = read_csv(
        data,
        headers=HEADERS,
        optional=OPTIONAL_HEADERS,
        max_rows=settings.PROVIDER_IMPORT_MAX_FILE_ROWS,
    )
    if not named_rows:
        raise ValidationError(_("The file has no rows under the header. Add one client a row."))
    provinces = _province_codes()
    stores = _store_ids()
    return [(line, csv_row_payload(named, provinces, stores)) for line, named in named_rows]


EXAMPLE_ROW = {
    "用户名": "#example_client",
    "电子邮箱": "client@example.cn",
    "手机号码": "13800138000",
    "主办单位性质": "企业",
    "主办单位名称": "示例科技（北京）有限公司",
    "主办单位证件类型": "统一社会信用代码",
    "主办单位证件号码": "91110108MA00000000",
    "主办单位所在省份": "北京",
    "主办单位通讯地址": "北京市海淀区示例路1号",
    "负责人姓名": "张三",
    "负责人证件类型": "居民身份证",
    "负责人证件号码": "110105199003070000",
    "负责人手机号码": "13900139000",
    "负责人电子邮箱": "zhangsan@example.cn",
    "网站名称": "示例科技官网",
    "网站首页网址": "http://www.example.cn/",
    "网站域名": "example.cn",
    "网站IP地址": "120.79.1.10",
    "网站服务内容": "企业网站",
    "服务器放置地点": "北京",
    "是否经营性": "否",
    "核验项目": ";".join(CHECKLIST_CODES),
}


def _example_row() -> list[str]:
    """The example row, its certificate numbers given their real check characters."""
    row = dict(EXAMPLE_ROW)
    uscc = row["主办单位证件号码"][:17]
    row["主办单位证件号码"] = uscc + uscc_check_character(uscc)
    person = row["负责人证件号码"][:17]
    row["负责人证件号码"] = person + resident_id_check_digit(person)
    return [row.get(h, "") for h in HEADERS]


def _zh(text: Any) -> str:
    with translation.override("zh-hans"):
        return str(text)


def template_csv() -> bytes:
    """The template: the header, an example row and the values of each coded column, in
    both languages. Rows whose first cell starts with # are not imported, so the file can be
    uploaded as it is and the example becomes a client by deleting its #. A UTF-8 BOM so
    that spreadsheet programs read the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerow(_example_row())
    writer.writerow(
        [
            "# 以 # 开头的行不会导入：删去示例行用户名前的 #，它就会作为一个客户导入。"
            " Rows starting with # are not imported: delete the # before the example's "
            "username to import it as a client."
        ]
    )
    for header, path in COLUMNS:
        if path.startswith("apps.0.") and path.endswith("services"):
            continue  # the same list as the website's
        if path == "sponsor.nature" or path.endswith(("id_type", "services", "0.platform")):
            writer.writerow(
                [f"# {header}"] + [f"{zh} / {en} / {code}" for code, zh, en in vocabulary(path)]
            )
    writer.writerow(
        [
            "# 主办单位所在省份、服务器放置地点",
            "省份名称（中文或英文）或 GB/T 2260 代码，如 北京、Beijing 或 11 / a province's name (Chinese or English) or code",
            "服务器在境外填 其它 / other outside mainland China",
        ]
    )
    writer.writerow(
        [
            "# 网站域名、网站IP地址、网站服务内容",
            "多个值用分号、顿号或逗号分隔 / separate several values with ; or ,",
        ]
    )
    writer.writerow(["# 是否经营性", "否 / no", "是 / yes（经营性网站需办理许可证，不能备案）"])
    writer.writerow(
        [
            "# 核验项目 / checks made in the first review (初审)",
            *(f"{code}: {_zh(label)}" for code, label in CHECKLIST),
        ]
    )
    writer.writerow(
        [
            "# 证件号码 / certificate numbers",
            "在电子表格中把该列设为文本，以免长数字被改写 / format the column as text",
        ]
    )
    writer.writerow(
        [
            "# App、小程序 / an app, a mini-program",
            "每行可再报备一个App和一个小程序，不报备的列留空；只报备App或小程序时网站各列留空"
            " / one app and one mini-program a row besides the website, their columns left "
            "empty when there is none; leave the website's columns empty to file only an app "
            "or a mini-program",
            "App各平台填包名（Bundle ID）、公钥和签名值，未上架的平台留空；App的接入为本单位"
            " / for each platform of the app its identifier, public key and fingerprint "
            "(MD5 for Android and HarmonyOS, SHA-1 for iOS); the app's access is at your company",
        ]
    )
    writer.writerow(
        [
            "# App分发平台",
            "已登记的分发平台名称，多个用分号分隔；不在列表中的填 其它"
            " / registered distribution platforms by name, or 其它 (other)",
        ]
    )
    writer.writerow(
        [
            "# App服务内容、小程序服务内容、App使用域名、AppIP地址",
            "同网站各列 / as the website's columns",
        ]
    )
    return ("\ufeff" + out.getvalue()).encode()


def flatten_errors(errors: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(field path, message) pairs from nested error dicts and lists, each message in the
    active language (stored rows hold coded messages, ``beian.coded``)."""
    if is_coded(errors):
        return [(prefix, render_message(errors))]
    if isinstance(errors, dict):
        return [
            pair
            for key, value in errors.items()
            for pair in flatten_errors(
                value, f"{prefix}.{key}" if prefix and key else prefix or key
            )
        ]
    if isinstance(errors, list):
        if all(isinstance(e, str) or is_coded(e) for e in errors):
            return [(prefix, render_message(e)) for e in errors]
        return [
            pair
            for i, value in enumerate(errors)
            for pair in flatten_errors(value, f"{prefix}.{i}" if prefix else str(i))
        ]
    return [(prefix, render_message(errors))]


_APP_PLATFORM_PATH = re.compile(r"^apps\.0\.platforms\.(\d+)(\..+)?$")


def column_for(path: str, payload: Any = None) -> str:
    """The CSV header a field path belongs to (the longest matching column), or the path.
    ``payload``: the row as read (``csv_row_payload``), which tells which platform an app's
    ``platforms.<n>`` is."""
    path = path.removeprefix("filing.")
    match = _APP_PLATFORM_PATH.match(path)
    if match:
        try:
            platform = payload["filing"]["apps"][0]["platforms"][int(match[1])]["platform"]
        except (KeyError, IndexError, TypeError):
            platform = None
        if platform in APP_PLATFORMS:
            path = f"apps.0.platforms.{platform}{match[2] or ''}"
    matches = [
        (len(column), header)
        for header, column in COLUMNS
        if path == column or path.startswith(column + ".")
    ]
    if matches:
        return max(matches)[1]
    # A problem of a part as a whole (an app with no platform): its first column.
    return next((header for header, column in COLUMNS if column.startswith(path + ".")), path)


def error_report_csv(job: ImportJob) -> bytes:
    """Line, username, column and message for every error of the job."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["行号", "用户名", "字段", "错误"])
    for line, username, errors, payload in (
        ImportRow.objects.filter(job=job, status=ImportRow.Status.ERROR)
        .order_by("index")
        .values_list("line", "username", "errors", "payload")
        .iterator(chunk_size=2000)
    ):
        for path, message in flatten_errors(errors):
            writer.writerow([line, username, column_for(path, payload), message])
    return ("\ufeff" + out.getvalue()).encode()


def results_csv(job: ImportJob, passwords: dict[int, str]) -> bytes:
    """Every row's outcome, with the initial passwords handed out this once."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["行号", "用户名", "结果", "初始密码", "备案记录"])
    labels = {"created": "已创建", "exists": "已导入过", "error": "错误", "pending": "等待"}
    for index, line, username, status, filing_id in (
        ImportRow.objects.filter(job=job)
        .order_by("index")
        .values_list("index", "line", "username", "status", "filing_id")
        .iterator(chunk_size=2000)
    ):
        writer.writerow(
            [line, username, labels.get(status, status), passwords.get(index, ""), filing_id or ""]
        )
    return ("\ufeff" + out.getvalue()).encode()


# Withdrawing accesses (取消接入, SPEC §12) -----------------------------------------------------

WITHDRAWAL_HEADERS = ["网站备案号", "原因"]
WITHDRAWAL_ALIASES = {"website_number": "网站备案号", "reason": "原因"}
# Cells a spreadsheet would run as a formula when the results file is opened.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_withdrawals_csv(data: bytes) -> list[AccessWithdrawal]:
    """The withdrawals of an uploaded file, one a row (columns ``WITHDRAWAL_HEADERS``, or
    their English names); at most ``PROVIDER_ACCESS_CANCEL_MAX_ROWS``. Raises
    ``ValidationError`` for a problem of the whole file, as ``read_csv``."""
    rows = read_csv(
        data,
        headers=WITHDRAWAL_HEADERS,
        aliases=WITHDRAWAL_ALIASES,
        max_rows=settings.PROVIDER_ACCESS_CANCEL_MAX_ROWS,
    )
    if not rows:
        raise ValidationError(
            _("The file has no rows under the header. Add one website number a row.")
        )
    return [
        AccessWithdrawal(
            website_number=(cells.get("网站备案号") or "").strip(),
            reason=(cells.get("原因") or "").strip(),
            line=line,
        )
        for line, cells in rows
    ]


def withdrawals_template_csv() -> bytes:
    """The header and a note, with a UTF-8 BOM so that spreadsheet programs read the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(WITHDRAWAL_HEADERS)
    writer.writerow(
        [
            "# 以 # 开头的行不会处理：每行填一个网站备案号（如 京ICP备2026000001号-1）和取消接入的原因。"
            " Rows starting with # are skipped: one website number and the reason a row."
        ]
    )
    return ("\ufeff" + out.getvalue()).encode()


def _cell_text(value: Any) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def withdrawal_results_csv(rows: list[dict[str, Any]]) -> bytes:
    """The results table of a withdrawal file (``line``, ``website_number``, ``reason``,
    ``outcome`` label and ``message`` a row) as CSV with a UTF-8 BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["行号", "网站备案号", "原因", "结果", "说明"])
    for row in rows:
        writer.writerow(
            [
                row["line"],
                _cell_text(row["website_number"]),
                _cell_text(row["reason"]),
                row["outcome_label"],
                _cell_text(row["message"]),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()
