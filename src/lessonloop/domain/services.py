"""Services and the dependencies between them (the topology incidents propagate along)."""

from __future__ import annotations

from pydantic import Field

from lessonloop.domain.common import DomainModel, Key, Name

__all__ = ["ServiceBase", "ServiceCreate", "ServiceUpdate", "ServiceRead"]


class ServiceBase(DomainModel):
    name: Key
    tier: int = Field(default=2, ge=1, le=3)
    team: Name | None = None
    owner: Name | None = None
    domain: Name | None = None


class ServiceCreate(ServiceBase):
    depends_on: list[Key] = Field(default_factory=list)


class ServiceUpdate(DomainModel):
    tier: int | None = Field(default=None, ge=1, le=3)
    team: Name | None = None
    owner: Name | None = None
    domain: Name | None = None


class ServiceRead(ServiceBase):
    id: int
    depends_on: list[str] = Field(default_factory=list)
