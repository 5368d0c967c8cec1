"""The filing record (备案记录) and its websites (SPEC §3).

``Filing`` and its ``Website`` rows are the working copy: the draft, or the latest submission
under review. What the bureau approved is *published* into ``PublishedWebsite`` and
``PublishedDomain``, which the public query, access gating and certificates read; they change
only when an approval lands and disappear on revocation, so an amendment under review never
changes what the public sees.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Filing(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PENDING_REVIEW = "pending_review", _("pending review")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        AMENDMENT_PENDING = "amendment_pending", _("amendment pending review")
        REVOCATION_PENDING = "revocation_pending", _("revocation pending review")
        REVOKED = "revoked", _("revoked")
        # The stages of an application before the bureau (SPEC §12).
        PROVIDER_REVIEW = "provider_review", _("waiting for the access provider's first review")
        VERIFICATION = "verification", _("waiting for SMS verification")
        RETURNED = "returned", _("returned for changes")

    # Statuses whose data takes part in conflict checks (drafts, rejected, revoked do not).
    ACTIVE_STATUSES = (
        Status.PENDING_REVIEW,
        Status.APPROVED,
        Status.AMENDMENT_PENDING,
        Status.REVOCATION_PENDING,
        Status.PROVIDER_REVIEW,
        Status.VERIFICATION,
        Status.RETURNED,
    )
    # Statuses waiting for a bureau decision, and what kind of decision.
    OPEN_STATUSES = (Status.PENDING_REVIEW, Status.AMENDMENT_PENDING, Status.REVOCATION_PENDING)
    # The stages an application passes before it reaches the bureau (SPEC §12).
    STAGE_STATUSES = (Status.PROVIDER_REVIEW, Status.VERIFICATION, Status.RETURNED)
    # Whether a record's approved data is valid and public is not a set of statuses: a record
    # approved before whose application is at a stage is filed too (``is_filed``, ``filed_q``).

    class Nature(models.TextChoices):
        ENTERPRISE = "enterprise", _("enterprise")
        GOVERNMENT = "government", _("government body")
        INSTITUTION = "institution", _("public institution")
        SOCIAL_ORG = "social_org", _("social organisation")
        INDIVIDUAL = "individual", _("individual")
        OTHER = "other", _("other")

    class IdType(models.TextChoices):
        USCC = "uscc", _("unified social credit code")
        RESIDENT_ID = "resident_id", _("resident identity card")
        PASSPORT = "passport", _("passport")
        HK_MACAO_PERMIT = (
            "hk_macao_permit",
            _("Mainland travel permit for Hong Kong and Macao residents"),
        )
        TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
        FOREIGN_PERMANENT_RESIDENT = (
            "foreign_permanent_resident",
            _("Foreign Permanent Resident ID Card"),
        )
        OTHER = "other", _("other")

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner account"),
        on_delete=models.PROTECT,
        related_name="filing",
    )
    # The access provider that filed on the owner's behalf (imported clients), if any.
    filed_by_provider = models.ForeignKey(
        "accounts.AccessProvider",
        verbose_name=_("filed by access provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="client_filings",
    )
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.DRAFT
    )
    number = models.CharField(_("filing number"), max_length=32, unique=True, null=True, blank=True)
    # Website numbers are {number}-{n}; n is never reused, even after a website is removed.
    last_website_seq = models.PositiveIntegerField(default=0)
    # The last ``n`` of the record's app numbers (``-nA``) and mini-program numbers (``-nX``),
    # counted per kind (SPEC §13).
    last_app_seq = models.PositiveIntegerField(default=0)
    last_mini_program_seq = models.PositiveIntegerField(default=0)

    # Sponsor (主办者) — the residence province decides the reviewing bureau.
    sponsor_nature = models.CharField(
        _("sponsor nature"), max_length=16, choices=Nature.choices, blank=True
    )
    sponsor_name = models.CharField(_("sponsor full name"), max_length=128, blank=True)
    # The name's key (``beian.normalforms.names.name_key``): what conflict checks compare.
    sponsor_name_key = models.CharField(max_length=128, blank=True, db_index=True, editable=False)
    sponsor_id_type = models.CharField(
        _("certificate type"), max_length=32, choices=IdType.choices, blank=True
    )
    sponsor_id_number = models.CharField(_("certificate number"), max_length=64, blank=True)
    province = models.ForeignKey(
        "beian.Province",
        verbose_name=_("residence province"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filings",
    )
    sponsor_address = models.CharField(_("address"), max_length=255, blank=True)
    principal_name = models.CharField(_("responsible person"), max_length=64, blank=True)
    principal_id_type = models.CharField(
        _("responsible person's certificate type"),
        max_length=32,
        choices=IdType.choices,
        blank=True,
    )
    principal_id_number = models.CharField(
        _("responsible person's certificate number"), max_length=64, blank=True
    )
    principal_mobile = models.CharField(_("responsible person's mobile"), max_length=20, blank=True)
    principal_email = models.EmailField(_("responsible person's email"), blank=True)

    # Review bookkeeping.
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_deadline = models.DateField(_("review deadline"), null=True, blank=True)
    has_open_conflicts = models.BooleanField(_("open conflicts"), default=False)
    has_preapproval = models.BooleanField(_("pre-approval"), default=False)
    first_approved_at = models.DateTimeField(_("first approved"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    revocation_reason = models.TextField(_("revocation reason"), blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
        indexes = [
            # The bureau queue: open items of one province by deadline.
            models.Index(
                fields=["province", "review_deadline", "id"],
                name="filing_queue_idx",
                condition=models.Q(
                    status__in=["pending_review", "amendment_pending", "revocation_pending"]
                ),
            ),
            models.Index(fields=["province", "status"], name="filing_province_status_idx"),
            # The bureau's search by the sponsor's certificate number (compact, capitals).
            models.Index(fields=["sponsor_id_number"], name="filing_sponsor_id_number_idx"),
            models.Index(fields=["filed_by_provider", "status"], name="filing_provider_idx"),
            # The statistics: decisions of the last 90 days, read from the index alone.
            models.Index(
                fields=["decided_at"],
                include=["province", "submitted_at"],
                name="filing_decided_idx",
                condition=models.Q(
                    status__in=["approved", "rejected", "revoked"], submitted_at__isnull=False
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.number or self.sponsor_name or f"#{self.pk}"

    @property
    def is_filed(self) -> bool:
        """Whether the record's approved data is valid and public (SPEC §3, §12): approved
        once and not revoked, whatever application is open."""
        return self.first_approved_at is not None and self.status != self.Status.REVOKED

    @classmethod
    def filed_q(cls, prefix: str = "") -> models.Q:
        """``is_filed`` as a query on filings, or through ``prefix`` (``"filing__"``)."""
        return models.Q(**{f"{prefix}first_approved_at__isnull": False}) & ~models.Q(
            **{f"{prefix}status": cls.Status.REVOKED}
        )

    @property
    def review_kind(self) -> str | None:
        return {
            self.Status.PENDING_REVIEW: "new",
            self.Status.AMENDMENT_PENDING: "amendment",
            self.Status.REVOCATION_PENDING: "revocation",
        }.get(self.status)


class Application(models.Model):
    """An application (申请, SPEC §12): one change to a filing record on its way to a decision.

    A filing has at most one open application (``closed_at`` empty); while it is open its
    ``status`` is the filing's status, which stays on the filing too, since the bureau's queue,
    the conflict checks, the statistics' tally and the SPEC §3 [contract] statuses all read the
    filing. The bureau's 20-working-day deadline (Q1) counts from ``reached_bureau_at``. A
    closed application is history: its last stage, its ``outcome`` and who decided it.
    """

    class Kind(models.TextChoices):
        # [contract] SPEC §12.
        NEW = "new", pgettext_lazy("application kind", "new filing")
        AMENDMENT = "amendment", pgettext_lazy("application kind", "amendment")
        REVOCATION = "revocation", pgettext_lazy("application kind", "revocation")
        NEW_ACCESS = "new_access", pgettext_lazy("application kind", "new access")
        CANCEL_ACCESS = "cancel_access", pgettext_lazy("application kind", "access cancellation")
        CANCEL_WEBSITE = "cancel_website", pgettext_lazy("application kind", "website cancellation")

    class Status(models.TextChoices):
        # The stages an application passes, named as the filing's statuses [contract]: the
        # bureau's three today; the provider's first review, the SMS verification and a
        # return to the owner take their place before them.
        PENDING_REVIEW = Filing.Status.PENDING_REVIEW.value, Filing.Status.PENDING_REVIEW.label
        AMENDMENT_PENDING = (
            Filing.Status.AMENDMENT_PENDING.value,
            Filing.Status.AMENDMENT_PENDING.label,
        )
        REVOCATION_PENDING = (
            Filing.Status.REVOCATION_PENDING.value,
            Filing.Status.REVOCATION_PENDING.label,
        )
        PROVIDER_REVIEW = Filing.Status.PROVIDER_REVIEW.value, Filing.Status.PROVIDER_REVIEW.label
        VERIFICATION = Filing.Status.VERIFICATION.value, Filing.Status.VERIFICATION.label
        RETURNED = Filing.Status.RETURNED.value, Filing.Status.RETURNED.label

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("application outcome", "withdrawn")

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="applications")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices)
    # The access provider that first-reviews it (初审): the registered provider of the
    # application's changed accesses; none when they are all "other" (Q10).
    provider = models.ForeignKey(
        "accounts.AccessProvider",
        verbose_name=_("access provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    submitted_at = models.DateTimeField(_("submitted"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # When it entered its current stage (the queues' "waiting since").
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    reached_bureau_at = models.DateTimeField(null=True, blank=True)
    # When the bureau's staff were told of its latest arrival (REVIEW_ARRIVAL_EMAILS); empty
    # while that email is still to be sent.
    bureau_told_at = models.DateTimeField(null=True, blank=True)

    # The provider's first review (初审): its deadline (``PROVIDER_REVIEW_WORKING_DAYS``
    # working days from arrival), what its staff checked (``stages.CHECKLIST`` codes), the
    # verification record (核验单) they uploaded, and who passed it when. ``passed_digest`` is
    # the digest of the data passed: submitted again unchanged after a lapsed verification, the
    # application does not wait for the provider a second time.
    provider_deadline = models.DateField(null=True, blank=True)
    provider_checklist = models.JSONField(default=list, db_default=[], blank=True)
    provider_record = models.FileField(
        _("verification record"), upload_to="verification-records/", blank=True, db_default=""
    )
    provider_record_type = models.CharField(max_length=32, blank=True, db_default="")
    provider_record_sha256 = models.CharField(max_length=64, blank=True, db_default="")
    provider_passed_at = models.DateTimeField(null=True, blank=True)
    provider_passed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    passed_digest = models.CharField(max_length=64, blank=True, db_default="")

    # The SMS verification (短信核验) of the responsible person: the keyed hash of the live
    # code (kept after it confirmed the application, until the next stage, so that the same
    # confirmation sent twice answers the same), the mobile it was sent to, wrong tries, when
    # it lapses.
    verification_code_hash = models.CharField(max_length=128, blank=True, db_default="")
    verification_mobile = models.CharField(max_length=20, blank=True, db_default="")
    verification_tries = models.PositiveSmallIntegerField(default=0, db_default=0)
    verification_sent_at = models.DateTimeField(null=True, blank=True)
    verification_expires_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    # (The columns above have database defaults too, so that bulk SQL inserts of applications
    # written before them, filings.0009 and the benchmark's seed, stay valid.)

    # Why a cancellation is asked for (``cancel_access``, ``cancel_website``), as given.
    reason = models.TextField(_("reason"), blank=True, db_default="")

    # What a provider's return or a lapsed verification asks the owner to fix:
    # ``[{"field": "websites.0.homepage", "reason": "…"}]`` (SPEC §12).
    returns = models.JSONField(default=list, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = pgettext_lazy("filing change", "application")
        verbose_name_plural = pgettext_lazy("filing change", "applications")
        constraints = [
            models.UniqueConstraint(
                fields=["filing"],
                condition=models.Q(closed_at__isnull=True),
                name="application_one_open_per_filing",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True, outcome="")
                | (models.Q(closed_at__isnull=False) & ~models.Q(outcome="")),
                name="application_outcome_when_closed",
            ),
        ]
        indexes = [
            # A provider's queue: its open applications at one stage, oldest first.
            models.Index(
                fields=["provider", "status", "submitted_at", "id"],
                name="application_provider_idx",
                condition=models.Q(closed_at__isnull=True),
            ),
            # Open applications at one stage, oldest first (sweeps, statistics).
            models.Index(
                fields=["status", "submitted_at", "id"],
                name="application_open_status_idx",
                condition=models.Q(closed_at__isnull=True),
            ),
            # The beat's sweep of lapsed SMS verifications.
            models.Index(
                fields=["verification_expires_at"],
                name="application_verification_idx",
                condition=models.Q(closed_at__isnull=True, status="verification"),
            ),
            # The public verification: the live codes of one mobile.
            models.Index(
                fields=["verification_mobile"],
                name="application_mobile_idx",
                condition=models.Q(closed_at__isnull=True, status="verification"),
            ),
            # Arrivals at the bureau whose email to its staff is still to be sent.
            models.Index(
                fields=["reached_bureau_at"],
                name="application_untold_idx",
                condition=models.Q(
                    closed_at__isnull=True,
                    bureau_told_at__isnull=True,
                    reached_bureau_at__isnull=False,
                ),
            ),
            # The public verification again: the codes of one mobile that confirmed an
            # application lately (a double click answers as the first click).
            models.Index(
                fields=["verification_mobile", "verification_sent_at"],
                name="application_confirmed_idx",
                condition=models.Q(verified_at__isnull=False),
            ),
            # The statistics: first reviews past their deadline, and the time spent in the first
            # review and in the SMS verification by those that left it lately (index only).
            models.Index(
                fields=["provider_deadline"],
                name="application_provider_late_idx",
                condition=models.Q(closed_at__isnull=True, status="provider_review"),
            ),
            models.Index(
                fields=["provider_passed_at"],
                include=["submitted_at", "filing"],
                name="application_passed_idx",
                condition=models.Q(provider_passed_at__isnull=False),
            ),
            models.Index(
                fields=["verified_at"],
                include=["verification_sent_at", "filing"],
                name="application_verified_idx",
                condition=models.Q(verified_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class _KindManager(models.Manager):
    """The services of one kind (``kind``), or of every kind when it is None."""

    kind: str | None = None

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if self.kind is None else queryset.filter(kind=self.kind)


class WebsiteManager(_KindManager):
    kind = "website"


class AppManager(_KindManager):
    kind = "app"


class MiniProgramManager(_KindManager):
    kind = "mini_program"


class Website(models.Model):
    """One service of the working copy (SPEC §3, §13): a website, an app or a mini-program;
    keeps its number across amendments.

    The three kinds share one table, so that accesses, pre-approvals, numbers, publishing and
    cancellation are one code for all. ``Website.objects`` (the default manager, and so
    ``filing.websites``) holds websites only; ``App.objects`` and ``MiniProgram.objects`` the
    other kinds; ``Website.every_kind`` all of them (an id named by a cancellation, say).
    """

    class Kind(models.TextChoices):
        # [contract] SPEC §13 ``service_type``.
        WEBSITE = "website", _("website")
        APP = "app", _("app")
        MINI_PROGRAM = "mini_program", _("mini-program")

    class Service(models.TextChoices):
        NEWS = "news", _("news")
        PUBLISHING = "publishing", _("publishing")
        EDUCATION = "education", _("education")
        MEDICAL = "medical", _("medical and health care")
        DRUGS_DEVICES = "drugs_devices", _("drugs and medical devices")
        CULTURE = "culture", _("culture")
        BROADCASTING = "broadcasting", _("radio, film and television programmes")
        CORPORATE = "corporate", _("corporate website")
        BLOG = "blog", _("blog or personal space")
        PORTAL = "portal", _("portal")
        COMMUNITY = "community", _("online community")
        OTHER = "other", _("other")

    # Services that need the competent authority's approval first (前置审批, Q2).
    PREAPPROVAL_SERVICES = (
        Service.NEWS,
        Service.PUBLISHING,
        Service.EDUCATION,
        Service.MEDICAL,
        Service.DRUGS_DEVICES,
        Service.CULTURE,
        Service.BROADCASTING,
    )
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="websites")
    kind = models.CharField(
        _("service type"), max_length=16, choices=Kind.choices, default=Kind.WEBSITE
    )
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("website name"), max_length=128, blank=True)
    homepage = models.CharField(_("homepage URL"), max_length=255, blank=True)
    # Scheme-less, lower-case host and path without trailing slash: for conflict checks.
    homepage_key = models.CharField(max_length=255, blank=True, db_index=True, editable=False)
    services = models.JSONField(_("service content"), default=list, blank=True)
    commercial = models.BooleanField(_("commercial service"), default=False)
    number = models.CharField(
        _("website number"), max_length=40, unique=True, null=True, blank=True
    )
    # An app's: the domains it uses (lower-case A-labels, subdomains allowed) and its
    # distribution platforms (ids of registered providers that distribute apps, or "other").
    app_domains = models.JSONField(_("domains the app uses"), default=list, blank=True)
    stores = models.JSONField(_("distribution platforms"), default=list, blank=True)
    # An approved website whose last access was cancelled (空壳网站, SPEC §12): when it was
    # found so; it is cancelled once the notice period has passed unless a new access is
    # approved first.
    shell_since = models.DateTimeField(_("empty shell since"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WebsiteManager()
    every_kind = _KindManager()

    class Meta:
        ordering = ["position", "id"]
        base_manager_name = "every_kind"
        indexes = [
            # The bureau's list of empty shells, oldest first.
            models.Index(
                fields=["shell_since"],
                name="website_shell_idx",
                condition=models.Q(shell_since__isnull=False),
            ),
        ]
        verbose_name = _("website")
        verbose_name_plural = _("websites")

    def __str__(self) -> str:
        return self.name or self.homepage

    def save(self, *args, **kwargs):
        kind = getattr(type(self), "KIND", None)
        if kind is not None:
            self.kind = kind
        super().save(*args, **kwargs)


class App(Website):
    """An app (SPEC §13): its identity on each platform is its ``identifiers``."""

    KIND = Website.Kind.APP
    objects = AppManager()

    class Meta:
        proxy = True
        verbose_name = _("app")
        verbose_name_plural = _("apps")


class MiniProgram(Website):
    """A mini-program (SPEC §13): its host platform and id there are its one ``identifiers``
    row."""

    KIND = Website.Kind.MINI_PROGRAM
    objects = MiniProgramManager()

    class Meta:
        proxy = True
        verbose_name = _("mini-program")
        verbose_name_plural = _("mini-programs")


class Identifier(models.Model):
    """What names an app on one platform, or a mini-program on its host (SPEC §13).

    An app has one row per platform (``android``, ``ios``, ``harmonyos``) with its identifier
    (package name, bundle ID, bundle name), the public key of its signing certificate (the RSA
    modulus or the key's DER, upper-case hexadecimal) and the certificate's fingerprint (MD5 or
    SHA-1 as the platform's form asks, upper-case hexadecimal without separators:
    ``beian.normalforms.apps``). A mini-program has one row: its host platform (``wechat``,
    ``alipay``, …) and its id there, no key. ``key`` is the identifier as conflicts compare it
    (``identifier_key``: iOS bundle IDs without case).
    """

    class Platform(models.TextChoices):
        # [contract] SPEC §13.
        ANDROID = "android", "Android"
        IOS = "ios", "iOS"
        HARMONYOS = "harmonyos", "HarmonyOS"
        WECHAT = "wechat", _("WeChat")
        ALIPAY = "alipay", _("Alipay")
        BAIDU = "baidu", _("Baidu")
        DOUYIN = "douyin", _("Douyin")
        QQ = "qq", "QQ"
        OTHER = "other", _("other platform")

    APP_PLATFORMS = (Platform.ANDROID, Platform.IOS, Platform.HARMONYOS)
    MINI_PROGRAM_PLATFORMS = (
        Platform.WECHAT,
        Platform.ALIPAY,
        Platform.BAIDU,
        Platform.DOUYIN,
        Platform.QQ,
        Platform.OTHER,
    )

    service = models.ForeignKey(Website, on_delete=models.CASCADE, related_name="identifiers")
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="identifiers")
    position = models.PositiveSmallIntegerField(default=0)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    identifier = models.CharField(_("identifier"), max_length=255)
    key = models.CharField(max_length=255, db_index=True, editable=False)
    public_key = models.TextField(_("public key"), blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.platform}: {self.identifier}"


class Access(models.Model):
    """An access (接入, SPEC §12) of a working-copy website: the party that serves it.

    The access provider is a registered provider, or none for "other" (not in the list, or
    outside mainland China, Q10); the method is how it serves the website; the server location
    a GB/T 2260 province code or ``"other"``; the IP addresses those at that provider. A
    website has one or more (a cloud and a CDN, say); a website whose approved accesses are
    all cancelled is an empty shell (空壳网站).
    """

    class Method(models.TextChoices):
        # [contract] SPEC §12.
        CLOUD = "cloud", _("cloud hosting")
        HOSTING = "hosting", _("virtual hosting")
        COLOCATION = "colocation", _("server colocation")
        DEDICATED_LINE = "dedicated_line", _("dedicated line")
        OTHER = "other", _("other")

    OTHER_LOCATION = "other"

    website = models.ForeignKey(Website, on_delete=models.CASCADE, related_name="accesses")
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="accesses")
    position = models.PositiveSmallIntegerField(default=0)
    provider = models.ForeignKey(
        "accounts.AccessProvider",
        verbose_name=_("access provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accesses",
    )
    method = models.CharField(
        _("access method"), max_length=16, choices=Method.choices, default=Method.OTHER
    )
    # A GB/T 2260 province code, or "other" for outside mainland China (Q10).
    server_location = models.CharField(_("server location"), max_length=8, blank=True)
    ips = models.JSONField(_("IP addresses"), default=list, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("access")
        verbose_name_plural = _("accesses")
        indexes = [
            # A provider's clients: the filings it serves.
            models.Index(fields=["provider", "filing"], name="access_provider_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.website_id}: {self.provider or _('other')}"

    @property
    def is_other(self) -> bool:
        """Whether the provider is "other" (not a registered provider, Q10)."""
        return self.provider_id is None


class Domain(models.Model):
    """A domain of a working-copy website, stored as a lower-case A-label."""

    website = models.ForeignKey(Website, on_delete=models.CASCADE, related_name="domains")
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="domains")
    name = models.CharField(_("domain"), max_length=253, db_index=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


def document_path(instance: Document, filename: str) -> str:
    return f"documents/{instance.filing_id}/{instance.sha256[:2]}/{instance.sha256}"


class Document(models.Model):
    """An uploaded pre-approval document: PDF, JPEG or PNG, checked by content."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to=document_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.original_name


class PreApproval(models.Model):
    """The competent authority's approval for one pre-approval service of a website (Q2)."""

    website = models.ForeignKey(Website, on_delete=models.CASCADE, related_name="preapprovals")
    category = models.CharField(_("category"), max_length=16, choices=Website.Service.choices)
    authority = models.CharField(_("approving authority"), max_length=128, blank=True)
    document_number = models.CharField(_("approval document number"), max_length=128, blank=True)
    document = models.ForeignKey(
        Document,
        verbose_name=_("approval document"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="preapprovals",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["website", "category"], name="preapproval_once_per_category"
            ),
        ]


class FilingDraft(models.Model):
    """Changes the owner has saved but not yet submitted, in the SPEC §10 JSON shape.

    The wizard and the API write here, never into the working copy: the working copy is what
    the bureau reviews (or approved), and it takes part in conflict checks, so half-typed
    edits of a filing under review or of an approved filing (an amendment in preparation)
    must not show there. Submission validates this data and moves it into the working copy.
    """

    filing = models.OneToOneField(Filing, on_delete=models.CASCADE, related_name="draft")
    data = models.JSONField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)


class FilingVersion(models.Model):
    """Every submitted and every approved state of a filing, as a JSON snapshot."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="versions")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    data = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["filing", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["filing", "seq"], name="filing_version_seq_unique"),
        ]


class Conflict(models.Model):
    """Another account's filing shares a homepage, a domain or the sponsor name (Q17).

    A match is recorded on both filings: as a ``conflict`` on the later submission and as a
    ``later_claim`` notice on the earlier one (see ``filings.conflicts``).
    """

    class Field(models.TextChoices):
        DOMAIN = "domain", _("domain")
        HOMEPAGE = "homepage", _("homepage URL")
        SPONSOR_NAME = "sponsor_name", _("sponsor full name")
        APP_IDENTIFIER = "app_identifier", _("app identifier")
        MINI_PROGRAM_ID = "mini_program_id", _("mini-program id")

    class Kind(models.TextChoices):
        # The later submission's: its data was already in another account's filing (Q17).
        # An open one blocks approval.
        CONFLICT = "conflict", _("conflict")
        # The earlier filing's: another account later submitted the same data. A notice for
        # its reviewer, never a block.
        LATER_CLAIM = "later_claim", _("later claim")

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CONFLICT)
    field = models.CharField(_("field"), max_length=16, choices=Field.choices)
    value = models.CharField(_("value"), max_length=255)
    other_filing = models.ForeignKey(
        Filing, on_delete=models.CASCADE, related_name="conflicts_as_other"
    )
    other_account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    detected_at = models.DateTimeField(_("detected"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["detected_at", "id"]
        indexes = [
            models.Index(
                fields=["filing"],
                name="conflict_open_idx",
                condition=models.Q(resolved_at__isnull=True),
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class FilingNumberSequence(models.Model):
    """The per-province, per-year counter behind sponsor numbers (locked when used)."""

    province = models.ForeignKey("beian.Province", on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["province", "year"], name="number_sequence_unique"),
        ]


class PublishedWebsite(models.Model):
    """An approved website as the public sees it (only public fields, no personal data)."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="published")
    website = models.ForeignKey(
        Website, null=True, on_delete=models.SET_NULL, related_name="published"
    )
    province = models.ForeignKey("beian.Province", on_delete=models.PROTECT, related_name="+")
    sponsor_number = models.CharField(max_length=32, db_index=True)
    sponsor_name = models.CharField(max_length=128, db_index=True)
    sponsor_nature = models.CharField(max_length=16)
    website_number = models.CharField(max_length=40, unique=True)
    website_name = models.CharField(max_length=128, db_index=True)
    # The names' whole keys (``beian.normalforms.names.name_search_key``, of any length since
    # NFKC can lengthen a name): what the public query searches, with trigram indexes on
    # PostgreSQL (public/migrations).
    sponsor_name_search = models.TextField(blank=True, editable=False)
    website_name_search = models.TextField(blank=True, editable=False)
    homepage = models.CharField(max_length=255)
    domains = models.JSONField(default=list)
    # The provider of the first approved access (its notices), and the ids of the registered
    # providers holding an approved access: gating's ``access`` (SPEC §12).
    access_provider = models.ForeignKey(
        "accounts.AccessProvider", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    access_providers = models.JSONField(default=list, db_default=[])
    # The approved accesses, in order, without their IP addresses: ``[{"provider": id | None,
    # "method": …, "server_location": …}]`` (the certificate lists them, SPEC §12).
    accesses = models.JSONField(default=list, db_default=[])
    approved_at = models.DateTimeField()
    # [contract] SPEC §13: ``website``, ``app`` or ``mini_program``. An app's or
    # mini-program's row has its name and number in ``website_name`` and ``website_number``,
    # no homepage, the domains an app uses in ``domains``, and its identifiers
    # (``[{"platform", "identifier"}]``, public: no key or fingerprint) in ``identifiers``.
    service_type = models.CharField(max_length=16, default="website", db_default="website")
    identifiers = models.JSONField(default=list, db_default=[])

    class Meta:
        ordering = ["website_number"]


class PublishedDomain(models.Model):
    """One approved domain: the indexed lookup behind access gating and the public query.

    Gating (SPEC §6, §12) reads one row per domain and nothing else: the row carries its
    website's number and access providers (written with it when the filing is published) and
    its filing's status, which database triggers keep equal to ``Filing.status`` (set on
    insert, and changed with the filing's; migration ``0018_published_rows_answer_alone``)."""

    name = models.CharField(max_length=253, db_index=True)
    website = models.ForeignKey(
        PublishedWebsite, on_delete=models.CASCADE, related_name="domain_rows"
    )
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="+")
    website_number = models.CharField(max_length=40, default="", db_default="")
    access_providers = models.JSONField(default=list, db_default=[])
    filing_status = models.CharField(max_length=24, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "website"], name="published_domain_unique"),
        ]


class PublishedIdentifier(models.Model):
    """One approved app identifier or mini-program id: the indexed lookup behind the
    distribution platforms' check and the public query (SPEC §13). ``key`` is the identifier
    in lower case, what a lookup of any case finds first; ``identifier`` and ``platform``
    decide whether it is the one asked (an iOS bundle ID matches without case, the others
    exactly). As ``PublishedDomain``, the row carries its service's number (written by
    publishing) and its filing's status (kept by triggers), so the check reads one table."""

    key = models.CharField(max_length=255, db_index=True)
    identifier = models.CharField(max_length=255)
    platform = models.CharField(max_length=16)
    website = models.ForeignKey(
        PublishedWebsite, on_delete=models.CASCADE, related_name="identifier_rows"
    )
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="+")
    service_number = models.CharField(max_length=40, default="", db_default="")
    filing_status = models.CharField(max_length=24, default="", db_default="")
