"""The composition root: the process's parts (engine, senders, delivery paths, transports,
the alarm desk) built once and handed down, and the background loops.

Event consumers and job handlers receive these parts as an argument; every session opened by
`factory` (and by the alarm desk's own factory) carries them in its `info`, so what runs at
commit (events to the transport, live messages, job wake-ups) reaches this process's parts.
Nothing looks the running process up in a global (backend/parts.py).

Embedded mode: one process serves HTTP and runs the event dispatchers, the outbox sweeper
and the job runner. Distributed mode: api processes publish event ids to a Redis Stream
and wake workers through Redis; `./dev worker` processes consume, sweep and run jobs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend import events, jobs
from backend.config import Settings
from backend.consultation.knowledge import KnowledgeBase
from backend.content.catalog import Catalog, catalog_for
from backend.content.read_aloud import ReadAloud
from backend.db import PARTS_KEY, create_engine, session_factory
from backend.emergency.desk import AlarmDesk
from backend.gateways.ami import AmiOriginator
from backend.gateways.calls import AliyunVoiceCalls, Caller
from backend.gateways.jpush import JPushChannel, vendor_classes
from backend.gateways.payments import DevPaymentGateway, PaymentGateway
from backend.gateways.push import FcmChannel
from backend.gateways.sms import AliyunSms, DevOutboxSms, Failover, SmsSender, Templates, TencentSms
from backend.live import LiveFanout
from backend.notify.paths import Path, build_paths
from backend.parts import Reader
from backend.personal import Plan
from backend.phone.calling import LineCaller
from backend.registry import personal_plan, screens
from backend.tokens import Tokens
from speech.tts import Synthesizer

log = logging.getLogger(__name__)
JOBS_WAKE = "jobs:wake"  # live channel: a job was scheduled, workers look now


class NoSmsProvider(RuntimeError):
    """Production without an SMS provider: a real elder could not sign in, and an alarm would
    reach only an app that happens to be open."""


def sms_sender(settings: Settings, catalog: Catalog) -> SmsSender:
    """The configured providers in order (LINLI_SMS_PROVIDERS), or the development outbox."""
    templates = Templates(settings.content_dir, catalog)
    providers: list[SmsSender] = []
    for name in settings.sms_providers:
        if name == "aliyun":
            providers.append(
                AliyunSms(
                    templates,
                    access_key_id=settings.aliyun_access_key_id,
                    access_key_secret=settings.aliyun_access_key_secret,
                    sign_name=settings.aliyun_sms_sign_name,
                    endpoint=settings.aliyun_sms_endpoint,
                    timeout_s=settings.sms_timeout_s,
                )
            )
        elif name == "tencent":
            providers.append(
                TencentSms(
                    templates,
                    secret_id=settings.tencent_sms_secret_id,
                    secret_key=settings.tencent_sms_secret_key,
                    sdk_app_id=settings.tencent_sms_sdk_app_id,
                    sign_name=settings.tencent_sms_sign_name,
                    endpoint=settings.tencent_sms_endpoint,
                    region=settings.tencent_sms_region,
                    timeout_s=settings.sms_timeout_s,
                )
            )
        else:
            raise ValueError(f"LINLI_SMS_PROVIDERS: unknown provider {name!r} (aliyun, tencent)")
    if providers:
        return Failover(providers)
    if settings.is_production:
        raise NoSmsProvider(
            "LINLI_SMS_PROVIDERS is empty: in production sign-in codes and alarms need an SMS provider "
            "(aliyun, tencent) and its LINLI_ALIYUN_* or LINLI_TENCENT_SMS_* settings"
        )
    return DevOutboxSms(settings.var_dir / "dev-outbox.jsonl", templates)


def voice_calls(settings: Settings, catalog: Catalog) -> Caller | None:
    """The community's own exchange when it is configured (it can say any message), else
    Alibaba Cloud voice notification calls when a number to call from is configured."""
    if settings.ami_host:
        return LineCaller(
            AmiOriginator(
                host=settings.ami_host,
                port=settings.ami_port,
                username=settings.ami_username,
                secret=settings.ami_secret,
                channel=settings.ami_channel,
                context=settings.ami_context,
                caller_id=settings.ami_caller_id,
                timeout_s=settings.ami_timeout_s,
            ),
        )
    if not settings.aliyun_voice_show_number:
        return None
    return AliyunVoiceCalls(
        Templates(settings.content_dir, catalog, room="calls"),
        access_key_id=settings.aliyun_access_key_id,
        access_key_secret=settings.aliyun_access_key_secret,
        show_number=settings.aliyun_voice_show_number,
        endpoint=settings.aliyun_voice_endpoint,
        timeout_s=settings.voice_call_timeout_s,
    )


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    factory: async_sessionmaker[AsyncSession]
    tokens: Tokens
    catalog: Catalog
    sms: SmsSender
    read_aloud: ReadAloud
    synthesizer: Synthesizer
    knowledge: KnowledgeBase
    live: LiveFanout
    alarm_desk: AlarmDesk  # every front door's presses, stored in groups
    paths: dict[str, Path]  # delivery paths by name, each built with its sender
    redis: Any = None
    push: FcmChannel | None = None
    jpush: JPushChannel | None = None
    payments: PaymentGateway | None = None  # online top-ups; none in production until an adapter exists
    transport: events.Transport | None = None
    job_runner: jobs.JobRunner | None = None
    personal: Plan = field(default_factory=personal_plan)
    screens: Mapping[str, Reader] = field(default_factory=screens)  # each home entry's, from its room
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        """Every part, built from the settings (the SMS providers, or the development outbox,
        never in production)."""
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        redis = None
        if settings.redis_url:
            redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
        # Filled in once the parts exist: every session of these factories carries them.
        carried: dict[str, Any] = {}
        catalog = catalog_for(settings.content_dir)
        sms = sms_sender(settings, catalog)
        push = (
            FcmChannel(settings.fcm_credentials_file, endpoint=settings.fcm_endpoint, timeout_s=settings.fcm_timeout_s)
            if settings.fcm_credentials_file
            else None
        )
        jpush = (
            JPushChannel(
                settings.jpush_app_key,
                settings.jpush_master_secret,
                classes=vendor_classes(settings.content_dir),
                endpoint=settings.jpush_endpoint,
                timeout_s=settings.jpush_timeout_s,
            )
            if settings.jpush_app_key
            else None
        )
        read_aloud = ReadAloud(settings)
        rt = cls(
            settings=settings,
            engine=engine,
            factory=session_factory(engine, info=carried),
            alarm_desk=AlarmDesk.with_own_pool(settings, info=carried),
            tokens=Tokens(settings),
            catalog=catalog,
            sms=sms,
            paths=build_paths(
                push={"fcm": push, "jpush": jpush},
                sms=sms,
                calls=voice_calls(settings, catalog),
                catalog=catalog,
                read_aloud=read_aloud,
            ),
            read_aloud=read_aloud,
            knowledge=KnowledgeBase(settings.content_dir),
            synthesizer=Synthesizer(
                settings.tts_cache_dir,
                timeout_s=settings.tts_timeout_s,
                max_chars=settings.tts_max_chars,
                workers=settings.tts_workers,
            ),
            live=LiveFanout(redis, settings.redis_prefix),
            redis=redis,
            payments=None if settings.is_production else DevPaymentGateway(settings.var_dir / "dev-payments.jsonl"),
            push=push,
            jpush=jpush,
        )
        carried[PARTS_KEY] = rt
        return rt

    @property
    def stream_key(self) -> str:
        return self.settings.redis_key("events")

    async def start(self, *, workers: bool, sweep: bool = True) -> None:
        """Connect the event transport; with `workers`, also run consumers, sweeper and jobs
        (`sweep` off: not the sweeper, which the service's own process runs)."""
        self._stop.clear()
        if self.redis is not None:
            transport = events.RedisStreamTransport(
                self.redis, self.stream_key, self.factory, worker_name=jobs.runner_name()
            )
            self.transport = transport
            if workers:
                self._spawn(transport.consume(self._stop))
                self._spawn(self._listen_for_wakes())
        else:
            self.transport = events.InProcessTransport(self.factory)
        if workers:
            settings = self.settings
            kinds = jobs.Kinds(settings.job_kinds)
            if settings.standing_jobs and kinds != jobs.Kinds.URGENT:
                await jobs.ensure_standing(
                    self.factory, only=settings.standing_jobs_only, stagger_s=settings.standing_stagger_s
                )
            chores = kinds == jobs.Kinds.CAN_WAIT
            pressure = self.alarm_desk.pressure
            self.job_runner = jobs.JobRunner(
                self.factory,
                kinds=kinds,
                # Chores one at a time, each after a quiet moment: alarms come first.
                concurrency=1 if chores else 8,
                yield_to=(
                    (lambda: pressure.wait_quiet(settings.chores_yield_quiet_s, settings.chores_yield_longest_s))
                    if chores
                    else None
                ),
            )
            self._spawn(self.job_runner.run_forever(self._stop))
            if sweep:
                self._spawn(events.sweep_forever(self.factory, self._stop))

    def _spawn(self, coro: Any) -> None:
        self._tasks.append(asyncio.create_task(coro))

    def wake_jobs(self, run_at: dt.datetime) -> None:
        """A session of this process scheduled a job due soon: its runner looks now, and in
        distributed mode so do the other processes' (a hint: runners poll the table anyway)."""
        if self.job_runner is not None:
            self.job_runner.wake(run_at)
        if self.redis is not None:
            self._publish_wake(run_at)

    def _publish_wake(self, run_at: dt.datetime) -> None:
        # A hint only: workers poll the jobs table anyway.
        task = asyncio.get_running_loop().create_task(self.live.publish(JOBS_WAKE, {"run_at": run_at.isoformat()}))
        self._tasks.append(task)  # keep a reference until it is done
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    async def _listen_for_wakes(self) -> None:
        async for _message in self.live.subscribe(JOBS_WAKE):
            if self.job_runner is not None:
                self.job_runner.wake()

    async def stop(self) -> None:
        await self.alarm_desk.close()
        if isinstance(self.transport, events.InProcessTransport):
            # Let events already committed finish rather than cut them off mid-transaction
            # (the sweeper would re-drive them, but late).
            try:
                await asyncio.wait_for(self.transport.idle(), timeout=5)
            except TimeoutError:
                log.warning("shutting down with events still being handled; the sweeper will finish them")
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if isinstance(self.transport, events.InProcessTransport):
            await self.transport.close()
        await self.live.close()
        self.transport = None
        self.job_runner = None

    async def close(self) -> None:
        await self.stop()
        caller = getattr(self.paths.get("voice"), "caller", None)
        if isinstance(caller, LineCaller):
            caller.originator.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()
        await self.alarm_desk.dispose()
        if self.push is not None:
            await self.push.aclose()
        if self.jpush is not None:
            await self.jpush.aclose()
        await asyncio.to_thread(self.synthesizer.close)
