"""What an operator watches: log lines (text or JSON), /healthz and /metrics."""
