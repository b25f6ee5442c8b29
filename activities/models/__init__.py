"""What couriers do, one module per programme; every model is importable from here."""

from activities.models.programmes import (
    Activity,
    ActivityQuerySet,
    Attendance,
    Department,
    SignUp,
)
from activities.models.rewards import (
    Partner,
    PartnerMember,
    Reward,
    RewardQuerySet,
    Voucher,
    VoucherQuerySet,
)
from activities.models.showcase import Partnership, PartnershipYear, Story, StoryQuerySet
from activities.models.volunteering import (
    Claim,
    PhotoReport,
    PhotoReportEvent,
    PointsEntry,
    ServiceRecord,
    VolunteerPost,
    VolunteerPostQuerySet,
)

__all__ = [
    "Activity",
    "ActivityQuerySet",
    "Attendance",
    "Claim",
    "Department",
    "Partner",
    "PartnerMember",
    "Partnership",
    "PartnershipYear",
    "PhotoReport",
    "PhotoReportEvent",
    "PointsEntry",
    "Reward",
    "RewardQuerySet",
    "ServiceRecord",
    "SignUp",
    "Story",
    "StoryQuerySet",
    "VolunteerPost",
    "VolunteerPostQuerySet",
    "Voucher",
    "VoucherQuerySet",
]
