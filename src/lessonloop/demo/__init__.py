"""The generated organisation behind ``lessonloop demo`` (see docs/demo-organisation.md)."""

from lessonloop.demo.generate import GeneratedOrg, generate_organisation

__all__ = ["GeneratedOrg", "generate_organisation"]
