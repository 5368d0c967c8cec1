import factory
from django.utils import timezone

from accounts.models import AccessProvider, User
from beian.models import Province


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"owner{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.cn")
    mobile = factory.Sequence(lambda n: f"138{n:08d}")
    role = User.Role.OWNER
    mobile_verified_at = factory.LazyFunction(timezone.now)
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", "Correct-Horse-9")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class BureauFactory(UserFactory):
    username = factory.Sequence(lambda n: f"bureau{n}")
    role = User.Role.BUREAU
    origin = User.Origin.STAFF
    province = factory.LazyFunction(lambda: Province.objects.get(code="11"))


class MinistryFactory(UserFactory):
    username = factory.Sequence(lambda n: f"ministry{n}")
    role = User.Role.MINISTRY
    origin = User.Origin.STAFF
    is_staff = True
    is_superuser = True


class AccessProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessProvider

    name = factory.Sequence(lambda n: f"示例云计算有限公司{n}")
    licence_number = factory.Sequence(lambda n: f"B1-2026{n:04d}")
    email = factory.Sequence(lambda n: f"icp{n}@provider.example.cn")
    phone = "010-12345678"


class FilingFactory(factory.django.DjangoModelFactory):
    """A complete Beijing enterprise filing, in draft; pass ``status`` for other states."""

    class Meta:
        model = "filings.Filing"

    owner = factory.SubFactory(UserFactory)
    status = "draft"
    sponsor_nature = "enterprise"
    sponsor_name = factory.Sequence(lambda n: f"北京示例科技有限公司{n}")
    sponsor_name_key = factory.LazyAttribute(lambda f: _sponsor_key(f.sponsor_name))
    sponsor_id_type = "uscc"
    sponsor_id_number = "91350100M000100Y43"
    province = factory.LazyFunction(lambda: Province.objects.get(code="11"))
    sponsor_address = "北京市海淀区中关村大街1号"
    principal_name = "张三"
    principal_id_type = "resident_id"
    principal_id_number = "11010519491231002X"
    principal_mobile = factory.Sequence(lambda n: f"137{n:08d}")
    principal_email = factory.Sequence(lambda n: f"principal{n}@example.cn")


class WebsiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "filings.Website"

    filing = factory.SubFactory(FilingFactory)
    name = factory.Sequence(lambda n: f"示例网站{n}")
    homepage = factory.Sequence(lambda n: f"http://www.example{n}.cn/")
    homepage_key = factory.LazyAttribute(lambda w: _homepage_key(w.homepage))
    services = ["corporate"]

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """A website with one access made from ``access_provider`` (a provider, None or
        absent: "other"), ``server_location``, ``ips`` and ``method``; ``accesses=[]`` makes an
        empty shell, ``accesses=[{…}, …]`` several (``Access`` fields)."""
        from filings.models import Access

        provider = kwargs.pop("access_provider", None)
        kwargs.pop("access_provider_other", None)
        first = {
            "provider": provider,
            "server_location": kwargs.pop("server_location", "11"),
            "ips": kwargs.pop("ips", ["120.79.1.10"]),
            "method": kwargs.pop("method", Access.Method.OTHER),
        }
        accesses = kwargs.pop("accesses", None)
        website = super()._create(model_class, *args, **kwargs)
        for position, access in enumerate([first] if accesses is None else accesses):
            Access.objects.create(
                website=website, filing=website.filing, position=position, **access
            )
        return website

    @factory.post_generation
    def domains(self, create, extracted, **kwargs):
        """``WebsiteFactory(domains=["a.cn"])``; by default the homepage's registrable domain."""
        from filings.models import Domain

        if not create:
            return
        names = extracted
        if names is None:
            host = self.homepage_key.split("/", 1)[0]
            names = [host.removeprefix("www.")]
        for position, name in enumerate(names):
            Domain.objects.create(website=self, filing=self.filing, name=name, position=position)


def _sponsor_key(name):
    from beian.normalforms.names import name_key as sponsor_name_key

    return sponsor_name_key(name)


def _homepage_key(url):
    from beian.normalforms.domains import homepage_key

    return homepage_key(url)
