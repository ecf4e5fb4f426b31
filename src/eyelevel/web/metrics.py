"""Prometheus metrics, in a registry per app (so several apps can live in one test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "eyelevel_http_requests",
            "HTTP requests by route template, method and status class",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "eyelevel_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
        )
        self.sockets = Gauge(
            "eyelevel_open_sockets", "Open WebSocket connections", registry=self.registry
        )
        self.messages = Counter(
            "eyelevel_messages", "Messages stored", ["kind"], registry=self.registry
        )
        self.bus_lag = Gauge(
            "eyelevel_bus_lag_seconds",
            "Age of the newest event when this process delivered it",
            registry=self.registry,
        )
        self.hub_cursor = Gauge(
            "eyelevel_hub_cursor",
            "Stream position delivered by this process",
            registry=self.registry,
        )
