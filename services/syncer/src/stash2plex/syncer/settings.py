"""Settings of the syncer service: the common groups plus ``STASH2PLEX_SYNCER__*``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from stash2plex.common.contracts import ErrorClass
from stash2plex.common.settings import CommonSettings, ListenSettings
from stash2plex.syncer.sync_options import FieldToggles, MatchOptions, WriteOptions

DEFAULT_PORT = 9911


class SyncerOptions(ListenSettings):
    """Options of the syncer service (``STASH2PLEX_SYNCER__…``). The defaults are gentle to a home Plex."""

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port of the syncer HTTP server.")
    concurrency_min: int = Field(
        default=1, ge=1, le=256, description="Fewest Plex requests in flight per replica (jobs: four times as many)."
    )
    concurrency_max: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Most Plex requests in flight per replica; the syncer adapts between the two.",
    )
    target_latency_s: float = Field(
        default=1.0,
        gt=0,
        description="A Plex request answered slower than this makes the syncer lower its concurrency.",
    )
    max_ack_pending: int = Field(
        default=64, ge=1, description="Jobs handed out at once across every replica (the consumer's max_ack_pending)."
    )
    ack_wait_s: float = Field(
        default=60, ge=5, description="A job not acknowledged within this is redelivered (kept alive while it runs)."
    )
    fetch_batch: int = Field(default=8, ge=1, le=256, description="Jobs asked of the broker per fetch.")
    circuit_threshold: int = Field(
        default=5, ge=1, description="Consecutive Plex failures that open the circuit and stop consumption."
    )
    probe_initial_s: float = Field(default=5, gt=0, description="First wait between health probes while Plex is down.")
    probe_max_s: float = Field(default=60, gt=0, description="Longest wait between health probes.")
    probe_timeout_s: float = Field(default=3, gt=0, description="Timeout of one health probe.")
    recovery_start_rate: float = Field(default=5, gt=0, description="Jobs per second right after Plex comes back.")
    recovery_ramp_to_rate: float = Field(
        default=200,
        gt=0,
        description="Rate the recovery ramp climbs to; after the ramp only the concurrency bound applies.",
    )
    recovery_ramp_s: float = Field(default=30, ge=0, description="How long the rate takes to climb after an outage.")
    retry_transient_base_s: float = Field(default=2, gt=0, description="First retry delay after Plex or Stash failed.")
    retry_transient_cap_s: float = Field(
        default=300, gt=0, description="Longest retry delay after a transient failure."
    )
    retry_transient_max_attempts: int = Field(
        default=12, ge=1, description="Deliveries before a job failing transiently (outside outages) is dead-lettered."
    )
    retry_not_found_base_s: float = Field(
        default=60, gt=0, description="First retry when Plex has no item for the file."
    )
    retry_not_found_cap_s: float = Field(default=900, gt=0, description="Longest retry delay while Plex has no item.")
    retry_not_found_window_s: float = Field(
        default=7200, gt=0, description="How long to wait for Plex to scan a file before dead-lettering the job."
    )
    index_refresh_min_s: float = Field(
        default=30, ge=0, description="A file not found in Plex re-reads Plex's library listing at most this often."
    )
    requeue_on_recovery: Annotated[list[ErrorClass], NoDecode] = Field(
        default_factory=list,
        description="Dead letters of these error classes go back to the queue when Plex recovers "
        "(comma separated, e.g. transient,not_found; empty: none).",
    )
    shutdown_deadline_s: float = Field(
        default=20, gt=0, description="On SIGTERM, jobs in flight get this long to finish before they are released."
    )
    fields: FieldToggles = Field(default_factory=FieldToggles, description="Which Stash fields reach Plex.")
    match: MatchOptions = Field(default_factory=MatchOptions, description="How a scene's Plex item is found.")
    write: WriteOptions = Field(default_factory=WriteOptions, description="Safety and timing rules of a write.")

    @field_validator("requeue_on_recovery", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _bounds_in_order(self) -> SyncerOptions:
        if self.concurrency_min > self.concurrency_max:
            raise ValueError("concurrency_min must not exceed concurrency_max")
        if self.probe_initial_s > self.probe_max_s:
            raise ValueError("probe_initial_s must not exceed probe_max_s")
        if self.recovery_start_rate > self.recovery_ramp_to_rate:
            raise ValueError("recovery_start_rate must not exceed recovery_ramp_to_rate")
        return self


class SyncerSettings(CommonSettings):
    """Everything the syncer service reads from the environment."""

    syncer: SyncerOptions = SyncerOptions()
