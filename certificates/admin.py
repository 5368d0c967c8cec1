from django.contrib import admin

from .models import Certificate, ComplianceCheck, SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ["key_id", "is_active", "created_at", "retired_at"]
    readonly_fields = ["key_id", "algorithm", "public_key", "created_at", "retired_at", "is_active"]

    def has_add_permission(self, request):
        # Keys are made by `manage.py certkeys`, which writes the private half safely.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["number", "serial", "status", "issued_at", "revoked_at", "key"]
    list_filter = ["status"]
    search_fields = ["number", "serial"]
    list_select_related = ["key"]
    raw_id_fields = ["filing"]
    readonly_fields = [f.name for f in Certificate._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ComplianceCheck)
class ComplianceCheckAdmin(admin.ModelAdmin):
    list_display = ["domain", "checked_at", "ok", "reason", "trigger"]
    list_filter = ["ok", "reason", "trigger"]
    search_fields = ["domain"]
    raw_id_fields = ["filing", "certificate"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
