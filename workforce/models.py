"""Workforce tables (SQLAlchemy models): forecasts and their intervals, schedules with shifts
and coverage, special days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.db import Base, UTCDateTime, utcnow

NAME_LEN = 64  # queue and shift-template names (the width the call record uses for a queue)
CODE_LEN = 32  # forecast method, schedule status
KIND_LEN = 16  # special-day kind
NOTE_LEN = 255  # special-day note, a shift's breaks


class WfmForecast(Base):
    """One forecast run for a queue: method, backtest accuracy and targets it was staffed to."""

    __tablename__ = "wfm_forecasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    method: Mapped[str] = mapped_column(String(CODE_LEN))
    interval_minutes: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    backtest_wape: Mapped[float | None] = mapped_column(Float, default=None)
    backtest_bias: Mapped[float | None] = mapped_column(Float, default=None)
    targets: Mapped[str] = mapped_column(Text, default="")

    intervals: Mapped[list[WfmForecastInterval]] = relationship(
        back_populates="forecast", cascade="all, delete-orphan",
        order_by="WfmForecastInterval.interval_start")


class WfmForecastInterval(Base):
    """Forecast calls and AHT for one interval, and the agents it needs."""

    __tablename__ = "wfm_forecast_intervals"
    __table_args__ = (Index("ix_wfm_fi_forecast_start", "forecast_id", "interval_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forecast_id: Mapped[int] = mapped_column(ForeignKey("wfm_forecasts.id", ondelete="CASCADE"))
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime())
    calls: Mapped[float] = mapped_column(Float)
    aht_s: Mapped[float | None] = mapped_column(Float, default=None)
    agents: Mapped[int | None] = mapped_column(default=None)
    scheduled: Mapped[int | None] = mapped_column(default=None)
    service_level: Mapped[float | None] = mapped_column(Float, default=None)

    forecast: Mapped[WfmForecast] = relationship(back_populates="intervals")


class WfmSchedule(Base):
    """Shifts chosen to cover a forecast's requirement."""

    __tablename__ = "wfm_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    forecast_id: Mapped[int] = mapped_column(ForeignKey("wfm_forecasts.id", ondelete="CASCADE"),
                                             index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(CODE_LEN))
    paid_hours: Mapped[float] = mapped_column(Float)

    shifts: Mapped[list[WfmShift]] = relationship(
        cascade="all, delete-orphan", order_by="WfmShift.starts_at")
    coverage: Mapped[list[WfmCoverage]] = relationship(
        cascade="all, delete-orphan", order_by="WfmCoverage.interval_start")


class WfmShift(Base):
    """``agents`` people on one shift variant (breaks as HH:MM-HH:MM;...)."""

    __tablename__ = "wfm_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("wfm_schedules.id", ondelete="CASCADE"),
                                             index=True)
    template: Mapped[str] = mapped_column(String(NAME_LEN))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    breaks: Mapped[str] = mapped_column(String(NOTE_LEN), default="")
    agents: Mapped[int] = mapped_column()
    paid_hours: Mapped[float] = mapped_column(Float)


class WfmCoverage(Base):
    """Required and scheduled agents in one interval of a schedule."""

    __tablename__ = "wfm_coverage"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("wfm_schedules.id", ondelete="CASCADE"),
                                             index=True)
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime())
    required: Mapped[float] = mapped_column(Float)
    scheduled: Mapped[float] = mapped_column(Float)


class WfmSpecialDay(Base):
    """A holiday, storm or deadline: kept out of training, or (override) its forecast scaled."""

    __tablename__ = "wfm_special_days"
    __table_args__ = (UniqueConstraint("queue", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[str] = mapped_column(String(NAME_LEN), default="")  # "" = every queue
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(KIND_LEN))  # exclude | override
    factor: Mapped[float] = mapped_column(Float, default=1.0)
    note: Mapped[str] = mapped_column(String(NOTE_LEN), default="")
