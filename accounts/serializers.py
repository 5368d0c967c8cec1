"""API input shapes (SPEC §10). The rules are in ``accounts.services``."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import User
from .validators import code_normal_form


class CodeField(serializers.CharField):
    """A 6-digit code in its normal form (``code_normal_form``) before its length is checked."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = code_normal_form(data)
        return super().to_internal_value(data)


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=32)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    email = serializers.CharField(max_length=254)
    mobile = serializers.CharField(max_length=24)


class AccountSerializer(serializers.ModelSerializer):
    mobile_verified = serializers.SerializerMethodField()
    email_verified = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "mobile", "mobile_verified", "email_verified"]

    def get_mobile_verified(self, user: User) -> bool:
        return user.mobile_verified_at is not None

    def get_email_verified(self, user: User) -> bool:
        return user.email_verified_at is not None


class VerifySerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    # Either may be left out once its channel is confirmed (the email never arrived, Q16).
    sms_code = CodeField(max_length=6, required=False, allow_blank=True)
    email_code = CodeField(max_length=6, required=False, allow_blank=True)


class VerifiedSerializer(serializers.Serializer):
    username = serializers.CharField()
    verified = serializers.BooleanField()


class ResendCodeSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    channel = serializers.ChoiceField(choices=["sms", "email"])
    new_email = serializers.CharField(max_length=254, required=False, allow_blank=True)

    def validate(self, data):
        if data.get("new_email") and data["channel"] != "email":
            raise serializers.ValidationError(
                {"new_email": [_("A new email address goes with the email channel.")]}
            )
        return data


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False, max_length=128)
    otp = CodeField(max_length=6, required=False, allow_blank=True)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
