from django.contrib import admin

from dalgo.orgs.models import ApiToken, Invitation, Membership, Org


class MembershipInline(admin.TabularInline[Membership, Org]):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin[Org]):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ["email", "org", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]
    list_filter = ["role"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "user", "org", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]
