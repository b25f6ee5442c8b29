"""What couriers do, one module per programme; every model is importable from here."""

from activities.models.programmes import (
    Activity,
    ActivityQuerySet,
    Attendance,
    Department,
    SignUp,
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
    "Partnership",
    "PartnershipYear",
    "PhotoReport",
    "PhotoReportEvent",
    "PointsEntry",
    "ServiceRecord",
    "SignUp",
    "Story",
    "StoryQuerySet",
    "VolunteerPost",
    "VolunteerPostQuerySet",
]
