"""Each engine's repositories are the store API (``storage.api``): checked by mypy alone.

Kept out of ``storage.api`` so that the API names no implementation and no engine imports
back into a module that imports it.
"""

from __future__ import annotations

from storage.api import (
    ArticlesApi,
    AssociationsApi,
    ClaimedDeliveriesApi,
    PublicationApi,
    RelatedApi,
    RetentionApi,
    StoreApi,
    StoriesApi,
)
from storage.postgresql.articles import PgArticleRepository
from storage.postgresql.associations import PgAssociationRepository
from storage.postgresql.outbox.repository import PgDeliveryRepository
from storage.postgresql.related import PgRelatedRepository
from storage.postgresql.retention import PgRetentionRepository
from storage.postgresql.store import PgStore
from storage.postgresql.stories import PgStoryRepository
from storage.publication import PublicationRepository
from storage.store import Store


def _the_sqlite_store_conforms(store: Store) -> StoreApi:
    return store


def _the_postgresql_store_conforms(store: PgStore) -> StoreApi:
    return store


def _postgresql_deliveries_conform(repository: PgDeliveryRepository) -> ClaimedDeliveriesApi:
    return repository


def _publication_conforms(repository: PublicationRepository) -> PublicationApi:
    return repository


def _postgresql_retention_conforms(repository: PgRetentionRepository) -> RetentionApi:
    return repository


def _postgresql_related_conforms(repository: PgRelatedRepository) -> RelatedApi:
    return repository


def _postgresql_associations_conform(
    repository: PgAssociationRepository,
) -> AssociationsApi:
    return repository


def _postgresql_articles_conform(repository: PgArticleRepository) -> ArticlesApi:
    return repository


def _postgresql_stories_conform(repository: PgStoryRepository) -> StoriesApi:
    return repository
