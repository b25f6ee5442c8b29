"""The registry app's models, one module per group, all importable from `couriers.models`:

- registry: towns, communities, party organisations, brands, enterprises, outlets, couriers,
  staff profiles
- casework: 三送三问 visits and needs, the party pipeline's stage history, answers to verify
- jobs: spreadsheet import jobs
- protection: one-time phone codes, phone locks, rate-limit counters
- messaging: the outbox of text messages
- broadcasts: notices staff send to a selection of couriers
"""

from couriers.models.broadcasts import Broadcast
from couriers.models.casework import Need, PartyStage, StatusCheck, Visit
from couriers.models.jobs import ImportJob, ImportJobQuerySet, _import_upload_path
from couriers.models.messaging import Message, MessageLog, MessagePreference, MessageQuerySet
from couriers.models.protection import PhoneCode, PhoneLock, RateCounter
from couriers.models.registry import (
    Brand,
    BrandQuerySet,
    Community,
    Courier,
    CourierQuerySet,
    Enterprise,
    ErasureRequest,
    Outlet,
    PartyOrganization,
    PipelineStage,
    StaffProfile,
    Town,
    Verification,
    contact_cutoff,
    stall_cutoff,
)

__all__ = [
    "Brand",
    "BrandQuerySet",
    "Broadcast",
    "Community",
    "Courier",
    "CourierQuerySet",
    "Enterprise",
    "ErasureRequest",
    "ImportJob",
    "ImportJobQuerySet",
    "Message",
    "MessageLog",
    "MessagePreference",
    "MessageQuerySet",
    "Need",
    "Outlet",
    "PartyOrganization",
    "PartyStage",
    "PhoneCode",
    "PhoneLock",
    "PipelineStage",
    "RateCounter",
    "StaffProfile",
    "StatusCheck",
    "Town",
    "Verification",
    "Visit",
    "_import_upload_path",
    "contact_cutoff",
    "stall_cutoff",
]
