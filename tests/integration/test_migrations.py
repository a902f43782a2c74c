"""Schema migrations go down and up again on a database with data, on both engines."""

from __future__ import annotations

from sqlalchemy import inspect, text
from tests.factories import populate

from lessonloop.services import knowledge
from lessonloop.storage.engine import downgrade_database, schema_revision, upgrade_database

HEAD = "0006"


def _vector_storage(workspace) -> str | None:
    """PostgreSQL's storage strategy of the search vector column (None on SQLite)."""
    if workspace.engine.dialect.name != "postgresql":
        return None
    with workspace.engine.connect() as connection:
        return connection.scalar(
            text(
                "SELECT attstorage FROM pg_attribute "
                "WHERE attrelid = 'search_documents'::regclass AND attname = 'tsv'"
            )
        )


def _entity_id_length(workspace) -> int:
    (column,) = [
        c for c in inspect(workspace.engine).get_columns("audit_events") if c["name"] == "entity_id"
    ]
    return int(column["type"].length)


def _audit_indexes(workspace) -> set[str]:
    return {i["name"] for i in inspect(workspace.engine).get_indexes("audit_events")}


def test_newest_migration_goes_down_and_up_keeping_data_and_search(workspace) -> None:
    with workspace.transaction() as session:
        keys = populate(session, 6)
    knowledge.reindex(workspace)
    assert schema_revision(workspace.engine) == HEAD
    postgres = workspace.engine.dialect.name == "postgresql"
    assert _vector_storage(workspace) == ("m" if postgres else None)  # MAIN: kept inline

    assert "ix_audit_events_entity" in _audit_indexes(workspace)
    assert "role_grants" in inspect(workspace.engine).get_table_names()
    assert _entity_id_length(workspace) == 330
    downgrade_database(workspace.engine, "0005")
    assert _entity_id_length(workspace) == 120
    assert "ix_audit_events_entity" in _audit_indexes(workspace)  # kept by the table rebuild
    downgrade_database(workspace.engine, "0004")
    assert "role_grants" not in inspect(workspace.engine).get_table_names()
    downgrade_database(workspace.engine, "0003")
    assert "ix_audit_events_entity" not in _audit_indexes(workspace)
    downgrade_database(workspace.engine, "0002")
    assert schema_revision(workspace.engine) == "0002"
    assert _vector_storage(workspace) == ("x" if postgres else None)  # EXTENDED: the default
    assert knowledge.search_knowledge(workspace, "degraded").hits

    upgrade_database(workspace.engine)
    assert schema_revision(workspace.engine) == HEAD
    assert "ix_audit_events_entity" in _audit_indexes(workspace)
    assert "role_grants" in inspect(workspace.engine).get_table_names()
    assert _entity_id_length(workspace) == 330
    assert _vector_storage(workspace) == ("m" if postgres else None)
    hits = knowledge.search_knowledge(workspace, "degraded", limit=50).hits
    assert {h.incident_key for h in hits} == set(keys)
