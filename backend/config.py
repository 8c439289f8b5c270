"""Settings: the one place configuration is read (environment variables prefixed LINLI_)."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from backend import clock

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_JWT_SECRET = "linli-development-secret-not-for-production"  # noqa: S105


class Env(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINLI_", extra="ignore")

    env: Env = Env.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = 8000
    # Proxies whose X-Forwarded-For is believed (per-IP rate limits need the real address).
    forwarded_allow_ips: str = "127.0.0.1"
    # Absolute URL clients use to reach this service; read-aloud URLs are built from it.
    public_base_url: str = ""

    database_url: str = "sqlite+aiosqlite:///./linli.db"
    database_pool_size: int = 10
    # Unset: embedded mode (in-process events and jobs). Set: distributed mode over Redis Streams.
    redis_url: str | None = None
    redis_prefix: str = "linli"
    # Serve HTTP and also run the event consumers and job runner in this process.
    run_workers_in_api: bool = True
    # Start the standing jobs (monthly subsidies) when workers start. Tests that are not
    # about them turn this off, so an allowance does not land in the middle of their sums.
    standing_jobs: bool = True
    # Only these standing jobs (their kinds), when set: a test about the monthly subsidy does
    # not want the TV channel re-encoded each time it moves the clock.
    standing_jobs_only: list[str] = Field(default_factory=list)
    # Alarms come first. Which jobs this process runs: all, only those that cannot wait
    # (escalations, a notice's next path), or only the chores that can (the TV channel,
    # subsidies, pruning, speaking the phone line's prompts in advance).
    job_kinds: Literal["all", "urgent", "can_wait"] = "all"
    # `serve` in embedded mode runs the chores in a process of their own at this lower
    # priority (nice), leaving the service's process and its share of the machine to alarms.
    chores_process: bool = True
    chores_nice: int = 10
    # The standing jobs start one after another, this far apart, not all at once.
    standing_stagger_s: float = 20.0
    # Chores hold back while alarms are being stored: until none was for this long (at most
    # the longer wait, so they are never starved for good).
    chores_yield_quiet_s: float = 2.0
    chores_yield_longest_s: float = 60.0

    content_dir: Path = REPO_ROOT / "content"
    operations_dir: Path = REPO_ROOT / "graphql" / "operations"
    var_dir: Path = REPO_ROOT / "var"

    # FCM: a service-account JSON file; unset, no push (SMS and the other channels still work).
    fcm_credentials_file: Path | None = None
    # Base URL instead of https://fcm.googleapis.com (a gateway, or a stand-in in tests).
    fcm_endpoint: str | None = None
    # The SDK waits 120 s by default; an alarm cannot.
    fcm_timeout_s: float = 5.0
    # JPush (极光推送), for phones in mainland China; unset app key: no JPush.
    jpush_app_key: str = ""
    jpush_master_secret: str = ""
    jpush_endpoint: str = "https://api.jpush.cn"
    jpush_timeout_s: float = 3.0

    # SMS providers, tried in this order (LINLI_SMS_PROVIDERS=aliyun,tencent). None: the
    # development outbox, which production refuses (the service does not start).
    sms_providers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    sms_timeout_s: float = 3.0  # then the next provider sends
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = ""
    aliyun_sms_sign_name: str = ""
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com"
    tencent_sms_secret_id: str = ""
    tencent_sms_secret_key: str = ""
    tencent_sms_sdk_app_id: str = ""
    tencent_sms_sign_name: str = ""
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com"
    tencent_sms_region: str = "ap-guangzhou"
    # Voice notification calls (语音通知) through Alibaba Cloud (the same access key as its SMS):
    # the number calls come from; unset, no calls.
    aliyun_voice_show_number: str = ""
    aliyun_voice_endpoint: str = "https://dyvmsapi.aliyuncs.com"
    voice_call_timeout_s: float = 3.0
    # The secret part of the URL providers push their reports to (call keys pressed); unset,
    # reports are refused.
    provider_callback_token: str = ""

    # Wearable SOS band vendors: {"vendor name": "shared secret"} (JSON in LINLI_SOS_VENDOR_SECRETS).
    sos_vendor_secrets: dict[str, str] = Field(default_factory=dict)
    # Official warning senders (the local warning-release system, CAP 1.2):
    # {"sender": "shared secret"} (JSON in LINLI_CAP_SENDER_SECRETS); the sender must match
    # the message's own <sender>.
    cap_sender_secrets: dict[str, str] = Field(default_factory=dict)
    # Partners reporting what earns 积分 (content/wallet/points.json sources):
    # {"source code": "shared secret"} (JSON in LINLI_POINTS_SOURCE_SECRETS).
    points_source_secrets: dict[str, str] = Field(default_factory=dict)
    # Smart meters and door sensors reporting a home's use (backend/wellbeing):
    # {"source": "shared secret"} (JSON in LINLI_HOME_SIGNAL_SECRETS).
    home_signal_secrets: dict[str, str] = Field(default_factory=dict)
    # How long a home's hours of use are kept for its baseline (PIPL: no longer than needed).
    home_readings_retention_days: int = 15
    # How often every home is checked against its usual day.
    quiet_home_every_s: int = 900

    jwt_secret: str = DEV_JWT_SECRET
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600

    login_code_ttl_s: int = 5 * 60
    login_code_max_attempts: int = 5
    login_code_resend_after_s: int = 60
    login_codes_per_phone_per_hour: int = 5
    login_codes_per_ip_per_hour: int = 30
    # Every invitation or link request sends an SMS: at most this many per person who starts
    # them, and towards one number from everyone else.
    invitations_per_hour: int = 5
    invitations_per_day: int = 10
    invitations_to_a_number_per_day: int = 3
    tv_grant_ttl_s: int = 10 * 60
    tv_grant_poll_interval_s: int = 5
    # Pairing codes: how many a network address may ask for, and how many wrong codes an
    # account or an address may type, in an hour (a guess must not find a stranger's box).
    tv_codes_per_ip_per_hour: int = 60
    tv_wrong_codes_per_person_per_hour: int = 10
    tv_wrong_codes_per_ip_per_hour: int = 50
    # The community channel (docs/tv.md): pages drawn in this font (Debian's fonts-noto-cjk;
    # face 2 of the collection is Simplified Chinese), encoded by this ffmpeg.
    tv_font_file: Path = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    tv_font_bold_file: Path = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
    tv_font_index: int = 2
    tv_ffmpeg: str = "ffmpeg"
    tv_encode_timeout_s: float = 120.0
    # A burst of edits rebuilds the loop once, this long after the first.
    tv_rebuild_delay_s: float = 5.0
    # Loops kept after a newer one goes on air: a player part-way through an older loop's
    # playlist finishes it (a loop lasts minutes).
    tv_keep_loops: int = 3
    # The programme guide covers this many hours ahead.
    tv_guide_hours: int = 6
    # Set-top boxes asking at once (a district's TVs coming on together) take turns for the
    # database this many at a time, rather than queue for the pool until its timeout.
    tv_portal_concurrency: int = 8

    # GraphQL limits, always on.
    max_query_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_body_bytes: int = 64 * 1024
    page_size_max: int = 100

    # A personal read-aloud URL (a notice, a greeting with a name) works this long.
    read_aloud_ttl_s: int = 7 * 24 * 3600
    tts_timeout_s: float = 10.0
    tts_max_chars: int = 300
    tts_rate_normal: int = 165
    tts_rate_slow: int = 120
    # Speech worker processes: the phone line speaks on many calls at once.
    tts_workers: int = 2
    # The phone line (docs/voice.md). The secret the exchange signs each call's numbers with;
    # unset, the line takes no calls.
    voice_secret: str = ""
    # Asterisk's AudioSocket connects here; unset port: no AudioSocket server.
    voice_audiosocket_host: str = "127.0.0.1"
    voice_audiosocket_port: int | None = None
    # More calls than this at once hear "busy" (each takes a recognizer and a share of the cores).
    voice_max_calls: int = 20
    voice_recognition_threads: int = 2
    # Nothing heard this long after a question: asked again, then goodbye and a call back.
    voice_silence_s: float = 8.0
    voice_max_call_s: float = 1800.0
    # End of speech: this much silence after a whole phrase, else the longer pause (elders
    # pause mid-phrase).
    voice_end_quick_ms: int = 300
    voice_end_ms: int = 1200
    # Speak the packs' fixed prompts once at start, so the first callers do not wait for them.
    voice_prewarm: bool = True
    # The community line (its service phone, any form) whose service centre takes the calls to
    # a number no community has, from callers nobody knows; unset: the first community that has
    # a service centre. Such a caller's alarm always reaches someone.
    voice_default_line: str = ""
    # Calling out through the community's own exchange (Asterisk AMI, docs/voice.md): unset
    # host, no calls through it (a provider's voice notifications may still ring for alarms).
    ami_host: str = ""
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret: str = ""
    ami_channel: str = "PJSIP/{number}@linli-trunk"  # how the exchange dials a number
    ami_context: str = "linli-out"  # the dialplan context that bridges the answered call to the line
    ami_caller_id: str = ""  # the number people see: the community's line
    ami_timeout_s: float = 3.0
    # The Mandarin Vosk model's directory (vosk-model-small-cn-0.22, docs/voice.md); unset, the
    # Mandarin line is answered by the keypad.
    vosk_model_zh_cn: Path | None = None

    # A message not confirmed on one path within this long goes out on the person's next path.
    # 10 s for alarms (FCM does not reach mainland China); longer for everyday messages.
    notify_fallback_emergency_s: float = 10.0
    notify_fallback_normal_s: float = 600.0

    # A deleted account: erased this long after it was suspended (so the family's "the link
    # ended" notices go out first); the records that must be kept (alarms, the pseudonymous
    # ledger) are kept this many days, then the alarm records and access logs go too.
    erasure_delay_s: int = 300
    retention_days: int = 3 * 365

    default_timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    log_json: bool = True

    # Overridable one by one; production turns them all on.
    introspection: bool | None = None
    graphiql: bool | None = None
    trusted_documents_only: bool | None = None
    mask_errors: bool | None = None

    extra_allowed_origins: list[str] = Field(default_factory=list)
    # /metrics says how busy the service is and what fails: in production it answers only a
    # scraper that sends "Authorization: Bearer <this>", and not at all while it is unset.
    metrics_token: str | None = None

    @field_validator("sms_providers", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @model_validator(mode="after")
    def _production_defaults(self) -> Settings:
        prod = self.env == Env.PRODUCTION
        for name in ("introspection", "graphiql"):
            if getattr(self, name) is None:
                setattr(self, name, not prod)
        for name in ("trusted_documents_only", "mask_errors"):
            if getattr(self, name) is None:
                setattr(self, name, prod)
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        if prod and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError("LINLI_JWT_SECRET must be set to a private value in production")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The community's time zone (backend/clock.py)."""
        return clock.zone(self.default_timezone)

    @property
    def is_production(self) -> bool:
        return self.env == Env.PRODUCTION

    @property
    def distributed(self) -> bool:
        return bool(self.redis_url)

    @property
    def tts_cache_dir(self) -> Path:
        return self.var_dir / "read-aloud"

    @property
    def tv_dir(self) -> Path:
        """The channel loops (HLS) and their pages; shared by every replica in distributed mode."""
        return self.var_dir / "tv"

    @property
    def alarm_pressure_file(self) -> Path:
        """Touched while alarms are being stored (backend.alarm_pressure)."""
        return self.var_dir / "alarms-being-stored"

    def redis_key(self, *parts: str) -> str:
        return ":".join((self.redis_prefix, *parts))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@lru_cache
def get_settings() -> Settings:
    return Settings()
