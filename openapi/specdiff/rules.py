"""What each kind of spec change means for a client: the classification table, and only that.

A rule id names what moved and which way. Schema rules start with the direction the schema is
read in: `request-` (what clients send: it breaks when the server accepts less, "narrowed")
or `response-` (what clients read: it breaks when the server may send more, "widened", or
less than it promised, "removed" / "optional" / "nullable"). "Narrowed" means fewer values
are valid than before; "widened", more; "changed", some of each (or undecidable: patterns are
compared as text). Additions a client can ignore are compatible.
"""

from __future__ import annotations

from dataclasses import dataclass

BREAKING, ADDED, CHANGED = "Breaking", "Added", "Changed"  # the changelog's sections


@dataclass(frozen=True)
class Rule:
    group: str  # BREAKING, or the changelog section of a compatible change
    reason: str  # why, for a client: the second half of the one-line explanation

    @property
    def breaking(self) -> bool:
        return self.group == BREAKING


def _breaks(reason: str) -> Rule:
    return Rule(BREAKING, reason)


def _adds(reason: str) -> Rule:
    return Rule(ADDED, reason)


def _changes(reason: str) -> Rule:
    return Rule(CHANGED, reason)


RULES: dict[str, Rule] = {
    # -- the document and its operations ------------------------------------------------------
    "server-removed": _breaks("clients using this base URL stop reaching the API"),
    "server-added": _adds("another base URL; the old ones still work"),
    "path-removed": _breaks("clients calling it get 404"),
    "path-added": _adds("a new path; existing clients never call it"),
    "operation-removed": _breaks("clients calling it get 405"),
    "operation-added": _adds("a new operation; existing clients never call it"),
    "operation-id-changed": _breaks("the SDKs name their functions after the operationId"),
    "operation-deprecated": _changes("still served; plan to stop calling it"),
    "security-changed": _breaks("a client authenticating as before may now be refused"),
    "security-relaxed": _changes("every client that authenticated before still does"),
    "security-scheme-changed": _breaks("clients send credentials the way the scheme said"),
    "security-scheme-removed": _breaks("clients send credentials the way the scheme said"),
    # -- parameters (what clients send) -------------------------------------------------------
    "parameter-removed": _breaks("clients still send it; the server no longer reads it"),
    "parameter-added-required": _breaks("existing clients do not send it"),
    "parameter-added-optional": _adds("existing clients simply do not send it"),
    "parameter-became-required": _breaks("clients that omit it are now refused"),
    "parameter-became-optional": _changes("clients may now omit it"),
    "parameter-serialization-changed": _breaks("clients serialize it the old way"),
    "parameter-deprecated": _changes("still read; plan to stop sending it"),
    # -- request bodies -----------------------------------------------------------------------
    "request-body-removed": _breaks("clients still send a body the server no longer reads"),
    "request-body-added-required": _breaks("existing clients send no body"),
    "request-body-added-optional": _adds("existing clients simply send none"),
    "request-body-became-required": _breaks("clients that send no body are now refused"),
    "request-body-became-optional": _changes("clients may now send no body"),
    "request-media-type-removed": _breaks("clients sending it get 415"),
    "request-media-type-added": _adds("another accepted media type"),
    # -- responses ----------------------------------------------------------------------------
    "response-status-removed": _breaks("clients built for this status get another one"),
    "response-status-added": _adds(
        "a newly documented status; clients built earlier treat it as undocumented"
    ),
    "response-media-type-removed": _breaks("clients parse a media type the server no longer sends"),
    "response-media-type-added": _adds("another media type, by content negotiation"),
    "response-header-removed": _breaks("clients reading it find it missing"),
    "response-header-added": _adds("clients ignore headers they do not know"),
    "response-header-became-optional": _breaks("clients reading it may find it missing"),
    "response-header-became-required": _changes("always sent now"),
    # -- request schemas: break when narrowed -------------------------------------------------
    "request-property-removed": _breaks("clients still send it; it is now ignored or refused"),
    "request-property-added-required": _breaks("existing clients do not send it"),
    "request-property-added-optional": _adds("existing clients simply do not send it"),
    "request-property-became-required": _breaks("clients that omit it are now refused"),
    "request-property-became-optional": _changes("clients may now omit it"),
    "request-type-narrowed": _breaks("values of the dropped types are now refused"),
    "request-type-widened": _changes("more types are accepted"),
    "request-type-changed": _breaks("values of the old type are now refused"),
    "request-not-nullable": _breaks("clients sending null are now refused"),
    "request-nullable": _changes("null is now accepted"),
    "request-enum-narrowed": _breaks("clients sending the dropped values are now refused"),
    "request-enum-widened": _changes("more values are accepted"),
    "request-bound-narrowed": _breaks("values clients send may now be out of bounds"),
    "request-bound-widened": _changes("more values are accepted"),
    "request-format-narrowed": _breaks("values not in the format are now refused"),
    "request-format-widened": _changes("any value of the type is accepted"),
    "request-format-changed": _breaks("values in the old format may now be refused"),
    "request-pattern-narrowed": _breaks("values not matching the pattern are now refused"),
    "request-pattern-widened": _changes("any value of the type is accepted"),
    "request-pattern-changed": _breaks("the new pattern may refuse values the old one accepted"),
    "request-additional-properties-narrowed": _breaks(
        "properties it does not define are now refused"
    ),
    "request-additional-properties-widened": _changes("properties it does not define are accepted"),
    "request-variant-removed": _breaks("values matching only that variant are now refused"),
    "request-variant-added": _changes("another shape is accepted"),
    "request-default-changed": _breaks("clients that omit it get a different behaviour"),
    "request-default-added": _changes("the value used when it is omitted is now documented"),
    "request-deprecated": _changes("still accepted; plan to stop sending it"),
    "request-keyword-changed": _breaks("a keyword this tool does not model changed: review it"),
    # -- response schemas: break when widened, or when what was promised may be absent ---------
    "response-property-removed": _breaks("clients reading it find it missing"),
    "response-property-added": _adds("clients ignore properties they do not know"),
    "response-property-became-optional": _breaks("clients reading it may find it absent"),
    "response-property-became-required": _changes("always present now"),
    "response-type-widened": _breaks("clients may receive a type they do not parse"),
    "response-type-narrowed": _changes("clients receive a subset of what they parse"),
    "response-type-changed": _breaks("clients receive a type they do not parse"),
    "response-nullable": _breaks("clients may receive null where they expect a value"),
    "response-not-nullable": _changes("never null now"),
    "response-enum-widened": _breaks("clients may receive a value they do not handle"),
    "response-enum-narrowed": _changes(
        "clients never receive the dropped values (dead code, not wrong)"
    ),
    "response-bound-widened": _breaks("clients may receive values outside the promised bounds"),
    "response-bound-narrowed": _changes("values stay inside the old bounds"),
    "response-format-widened": _breaks("values may no longer be in the format clients parse"),
    "response-format-narrowed": _changes("values stay valid for clients"),
    "response-format-changed": _breaks("values are in a format clients do not parse"),
    "response-pattern-widened": _breaks("values may no longer match the pattern clients rely on"),
    "response-pattern-narrowed": _changes("values stay valid for clients"),
    "response-pattern-changed": _breaks("values may no longer match the pattern clients rely on"),
    "response-additional-properties-widened": _changes(
        "clients ignore properties they do not know"
    ),
    "response-additional-properties-narrowed": _changes("fewer undeclared properties are sent"),
    "response-variant-added": _breaks("clients may receive a shape they do not parse"),
    "response-variant-removed": _changes("clients never receive that shape"),
    "response-default-changed": _changes("a response default is documentation only"),
    "response-default-added": _changes("a response default is documentation only"),
    "response-deprecated": _changes("still sent; plan to stop reading it"),
    "response-keyword-changed": _breaks("a keyword this tool does not model changed: review it"),
}
