"""The local run's stand-in for Lambda's stream trigger: DynamoDB Local's own stream API, the same handler.

It reads the events table's stream (DescribeStream, GetShardIterator, GetRecords) and hands each batch
of records, in Lambda's shape, to the stream function Lambda would run (``chalicelib.jobs.invoke_stream``):
no second code path for delivery. Records the handler reports back (``batchItemFailures``) are read
again from the first of them, as Lambda does; a shard's position moves on only once the handler has returned,
so a handler that raises is handed the same records again.

Where it starts: each shard it has not read in this process is read from ``TRIM_HORIZON``, so a restart
(or a poller started after events were written) loses nothing the stream still holds (24 hours).
What it reads again is harmless: a delivery is keyed by (webhook, event id), and one sent or already
attempted is never sent again by a replayed record. Iterators are kept per shard between polls; a
closed shard read to its end is dropped, and its children are found by the next DescribeStream.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FUNCTION = "deliver_webhooks"
EVENTS_TABLE_SUFFIX = "events"
BATCH = 100
STALE_ITERATOR = ("ExpiredIteratorException", "TrimmedDataAccessException")


@dataclass
class ShardState:
    iterator: str | None = None
    last_sequence: str | None = None  # the last record handed over (and not reported back)
    done: bool = False


@dataclass
class StreamPoller:
    """Polls one table's stream and feeds the handler. ``poll_once`` is one pass over every open shard."""

    table_name: str
    handle: Callable[[list[dict[str, Any]]], dict[str, Any]]
    client: Any = None
    shards: dict[str, ShardState] = field(default_factory=dict)
    stream_arn: str | None = None

    def _streams(self) -> Any:
        if self.client is None:
            import boto3

            from chalicelib.config import get_settings
            from chalicelib.store.binding import local_credential

            settings = get_settings()
            credential = local_credential(settings)  # DynamoDB Local keeps data per access key
            self.client = boto3.client("dynamodbstreams", endpoint_url=settings.dynamodb_endpoint_url,
                                       region_name=settings.region, aws_access_key_id=credential,
                                       aws_secret_access_key=credential)
        return self.client

    def _arn(self) -> str | None:
        if self.stream_arn is None:
            from chalicelib.store.models.events import EventRecord

            table = EventRecord._get_connection().describe_table()
            self.stream_arn = table.get("LatestStreamArn")
        return self.stream_arn

    def _discover(self) -> None:
        arn = self._arn()
        if arn is None:
            return
        start: dict[str, Any] = {}
        while True:
            description = self._streams().describe_stream(StreamArn=arn, **start)["StreamDescription"]
            for shard in description.get("Shards", []):
                self.shards.setdefault(shard["ShardId"], ShardState())
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            start = {"ExclusiveStartShardId": last}

    def _iterator(self, shard_id: str, state: ShardState) -> str | None:
        if state.last_sequence:
            where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": state.last_sequence}
        else:
            where = {"ShardIteratorType": "TRIM_HORIZON"}
        answer = self._streams().get_shard_iterator(StreamArn=self._arn(), ShardId=shard_id, **where)
        return answer.get("ShardIterator")

    def poll_once(self) -> int:
        """Read every open shard once and hand over what it holds; how many records were handed over."""
        self._discover()
        handed = 0
        for shard_id, state in list(self.shards.items()):
            if state.done:
                continue
            handed += self._poll_shard(shard_id, state)
        return handed

    def _poll_shard(self, shard_id: str, state: ShardState, fresh: bool = False) -> int:
        from botocore.exceptions import ClientError

        if state.iterator is None:
            state.iterator = self._iterator(shard_id, state)
        if state.iterator is None:
            state.done = True
            return 0
        try:
            answer = self._streams().get_records(ShardIterator=state.iterator, Limit=BATCH)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in STALE_ITERATOR:
                state.iterator = None  # taken again after the last record handed over, and read now
                return 0 if fresh else self._poll_shard(shard_id, state, fresh=True)
            raise
        records = answer.get("Records", [])
        following = answer.get("NextShardIterator")
        if records:
            try:
                result = self.handle(records)
            except Exception:
                state.iterator = None  # the position stays: the same records are handed over again, as Lambda retries
                raise
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
            kept = records
            if failed:  # read again from the first reported record
                first = next((i for i, record in enumerate(records) if record["dynamodb"]["SequenceNumber"] in failed),
                             0)  # an identifier that is none of these: the whole batch again, as Lambda does
                kept = records[:first]
                following = None
            if kept:
                state.last_sequence = kept[-1]["dynamodb"]["SequenceNumber"]
        state.iterator = following  # moved on only now that the handler has returned
        if state.iterator is None and not records:
            state.done = True  # a closed shard, read to its end
        return len(records)


def events_poller() -> StreamPoller:
    """A poller of the bound events table feeding ``deliver_webhooks`` (configuration read now, not at import)."""
    from chalicelib.jobs import invoke_stream
    from chalicelib.runtime import LocalContext
    from chalicelib.store.binding import bind_tables
    from chalicelib.store.models.events import EventRecord

    bind_tables()

    def handle(records: list[dict[str, Any]]) -> dict[str, Any]:
        return invoke_stream(FUNCTION, records, LocalContext(FUNCTION, timeout_s=120.0))

    return StreamPoller(EventRecord.Meta.table_name, handle)


class PollerThread(threading.Thread):
    """Polls every ``interval_s`` until stopped; a failing poll is logged and retried on the next tick."""

    def __init__(self, poller: StreamPoller, interval_s: float = 1.0) -> None:
        super().__init__(name="leadvault-stream-poller", daemon=True)
        self.poller = poller
        self._interval_s = interval_s
        self._stopping = threading.Event()

    def run(self) -> None:
        from chalicelib.logs import log_exception

        while not self._stopping.wait(self._interval_s):
            try:
                self.poller.poll_once()
            except Exception as exc:  # noqa: BLE001 - DynamoDB Local restarting, say: the next tick tries again
                log_exception("stream_poll_failed", exc)

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout_s)
