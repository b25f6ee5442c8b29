"""Which importer reads which kind of sheet.

The registry app registers its own (survey, enterprise/outlet list); apps further up the
dependency chain add theirs with register_importer() in their AppConfig.ready().
"""

from __future__ import annotations

from couriers.imports.enterprise_list import EnterpriseListImporter
from couriers.imports.sheet_import import SheetImporter
from couriers.imports.survey import CourierSurveyImporter
from couriers.models import ImportJob

IMPORTERS: dict[str, type[SheetImporter]] = {
    ImportJob.Kind.COURIERS: CourierSurveyImporter,
    ImportJob.Kind.ENTERPRISES: EnterpriseListImporter,
}


def register_importer(kind: str, importer: type[SheetImporter]) -> None:
    IMPORTERS[kind] = importer
