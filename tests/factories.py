import factory
from django.utils import timezone

from accounts.models import User
from beian.models import Province
from providers.models import AccessProvider


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
