"""B2 corpora: reading a folder of postmortems, checking it, and splitting it for scoring.

A corpus that would give a meaningless score is refused (a test document that is also a
training document; test categories no training document has). What is odd but scorable is
reported in ``CorpusNotes`` and left to the reader: categories outside the default taxonomy
(another taxonomy is allowed), documents without text (left out), test categories without a
training example, and two documents of one cross-validation corpus that are one document (the
same ``uuid``, or the same text as scored), whose copies in different folds inflate the score.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import KFold

from lessonloop.domain.signals import label_words
from lessonloop.errors import InputError
from lessonloop.text.frontmatter import PostmortemDocument, parse_postmortem
from lessonloop.text.taxonomy import Taxonomy, default_failure_taxonomy

__all__ = [
    "CorpusNotes",
    "Split",
    "corpus_taxonomy",
    "read_postmortem_directory",
    "split_pairs",
    "tidy_corpora",
]

Documents = list[PostmortemDocument]
Split = tuple[Documents, Documents, Documents]


def read_postmortem_directory(directory: Path) -> Documents:
    """Parse every ``*.md`` file of a directory, sorted by name; a broken file raises InputError."""
    if not directory.is_dir():
        raise InputError("postmortem directory not found", file=str(directory))
    documents = []
    for path in sorted(directory.glob("*.md")):
        if path.is_dir():
            raise InputError(
                "a folder named *.md: only postmortem files may end in .md", file=str(path)
            )
        if path.is_symlink() and not path.exists():
            raise InputError("a link to a file that does not exist", file=str(path))
        try:
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"not UTF-8 text ({error.reason})", file=str(path)) from None
        except OSError as error:
            raise InputError(
                f"cannot read the file ({error.strerror or error})", file=str(path)
            ) from None
        documents.append(parse_postmortem(content, str(path)))
    if not documents:
        raise InputError("no *.md postmortems in directory", file=str(directory))
    return documents


@dataclass
class CorpusNotes:
    """What the run should say about its corpora: scorable, but worth a look."""

    unknown_categories: dict[str, list[str]] = field(default_factory=dict)  # label -> files
    empty_documents: list[str] = field(default_factory=list)  # left out
    untrained_test_categories: list[str] = field(default_factory=list)
    duplicate_documents: list[dict[str, Any]] = field(default_factory=list)  # files, same

    def warnings(self) -> list[str]:
        """One sentence per finding, for people."""
        out = [
            f"category {label!r} is not in the default taxonomy ({len(files)} file(s), first "
            f"{files[0]}); it is scored as a label of its own"
            for label, files in self.unknown_categories.items()
        ]
        out += [f"{name}: no text to learn from; left out" for name in self.empty_documents]
        out += [
            f"test category {label!r} has no training example; it cannot be predicted"
            for label in self.untrained_test_categories
        ]
        out += [
            f"{first} and {second} look like one document ({same}); cross-validation may "
            "train on one and test on the other, which inflates the scores"
            for (first, second), same in ((d["files"], d["same"]) for d in self.duplicate_documents)
        ]
        return out


def tidy_corpora(groups: Sequence[Documents | None], notes: CorpusNotes) -> list[Documents | None]:
    """The groups with categories read as taxonomy labels and documents without text left out.

    A category is matched to a default label as labels are matched everywhere (``Config
    Change`` is ``config-change``); any other category is kept and noted in ``notes``.
    """
    known = default_failure_taxonomy().labels
    by_words = {label_words(label): label for label in known}
    out: list[Documents | None] = []
    for group in groups:
        if group is None:
            out.append(None)
            continue
        kept = []
        for document in group:
            if not document.text.strip():
                notes.empty_documents.append(document.name)
                continue
            labels = []
            for category in document.categories:
                words = label_words(category)
                if not words:
                    raise InputError(
                        f"category {category!r} has no letters or digits",
                        file=document.name,
                        field="categories",
                    )
                label = by_words.setdefault(words, category)
                if label not in known:
                    notes.unknown_categories.setdefault(label, []).append(document.name)
                labels.append(label)
            kept.append(replace(document, categories=tuple(dict.fromkeys(labels))))
        out.append(kept)
    return out


def corpus_taxonomy(documents: Sequence[PostmortemDocument]) -> Taxonomy:
    """The default taxonomy, plus keyword-less entries for categories it does not know."""
    base = default_failure_taxonomy()
    extra = sorted({c for d in documents for c in d.categories} - set(base.labels))
    if not extra:
        return base
    return Taxonomy.from_mapping(
        base.to_mapping() | {c: {"description": "", "keywords": []} for c in extra}
    )


def _folder_of(documents: Sequence[PostmortemDocument]) -> str | None:
    """The folder the documents were read from (None when there are none)."""
    return str(Path(documents[0].name).parent) if documents else None


def _identities(document: PostmortemDocument) -> Iterator[tuple[str, str]]:
    """What makes two documents one: the file, the ``uuid`` field, the text."""
    yield "the same file", str(Path(document.name).resolve())
    uuid = document.metadata.get("uuid")
    if isinstance(uuid, str) and uuid.strip():
        yield f"the same uuid {uuid.strip()}", uuid.strip()
    content = "\0".join((document.title, document.summary, document.body.strip()))
    yield "the same title, summary and body", hashlib.sha256(content.encode()).hexdigest()


def _note_copies(documents: Documents, notes: CorpusNotes) -> None:
    """Note documents that repeat an earlier one of the corpus: the same ``uuid``, or the same
    text as scored once case and spacing are ignored."""
    seen: dict[tuple[str, str], str] = {}
    for document in documents:
        uuid = document.metadata.get("uuid")
        keys = [("text", " ".join(document.text.split()).casefold())]
        if isinstance(uuid, str) and uuid.strip():
            keys.insert(0, ("uuid", uuid.strip()))
        for kind, key in keys:
            first = seen.setdefault((kind, key), document.name)
            if first != document.name:
                same = f"the same uuid {key}" if kind == "uuid" else "the same text"
                notes.duplicate_documents.append({"files": [first, document.name], "same": same})
                break


def _refuse_shared_documents(train: Documents, test: Documents) -> None:
    """InputError naming both folders and the first scored test document also in ``train``."""
    seen: dict[tuple[str, str], PostmortemDocument] = {}
    for document in train:
        for reason, key in _identities(document):
            seen.setdefault((reason, key), document)
    for document in (d for d in test if d.is_labeled):
        for reason, key in _identities(document):
            if (reason, key) in seen:
                raise InputError(
                    f"the train corpus {_folder_of(train)} and the test corpus "
                    f"{_folder_of(test)} share documents: this one is "
                    f"{seen[reason, key].name} ({reason}); test on documents not trained on",
                    file=document.name,
                )


def split_pairs(
    documents: Documents | None,
    train_documents: Documents | None,
    test_documents: Documents | None,
    seed: int,
    notes: CorpusNotes,
) -> list[Split]:
    """(labelled train, labelled test, unlabelled) per fold, or one train/test pair."""
    if documents is not None:
        _note_copies(documents, notes)
        labeled = [d for d in documents if d.is_labeled]
        unlabeled = [d for d in documents if not d.is_labeled]
        if len(labeled) < 5:
            raise InputError(
                f"B2 cross-validation needs at least 5 labelled documents; found {len(labeled)}",
                file=_folder_of(documents),
            )
        folds = KFold(5, shuffle=True, random_state=seed).split(np.arange(len(labeled)))
        return [([labeled[i] for i in tr], [labeled[i] for i in te], unlabeled) for tr, te in folds]
    if train_documents is None or test_documents is None:
        raise InputError("give both --train-corpus and --test-corpus")
    _refuse_shared_documents(train_documents, test_documents)
    train = [d for d in train_documents if d.is_labeled]
    test = [d for d in test_documents if d.is_labeled]
    if not train:
        raise InputError(
            "the train corpus has no labelled documents", file=_folder_of(train_documents)
        )
    if not test:
        raise InputError(
            "the test corpus has no labelled documents", file=_folder_of(test_documents)
        )
    trained = {c for d in train for c in d.categories}
    tested = sorted({c for d in test for c in d.categories})
    if not trained & set(tested):
        raise InputError(
            f"no category of the test corpus ({', '.join(tested)}) has a training example "
            f"(the train corpus {_folder_of(train)} has {', '.join(sorted(trained))}); "
            "every score would be 0",
            file=_folder_of(test),
        )
    notes.untrained_test_categories = [c for c in tested if c not in trained]
    return [(train, test, [d for d in train_documents + test_documents if not d.is_labeled])]
