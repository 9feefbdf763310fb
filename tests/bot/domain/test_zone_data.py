"""Time zones work where the system has no zone data (slim images, Windows): tzdata."""

import json
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json
from zoneinfo import available_timezones
from pydantic import ValidationError
from bot.config import DigestSettings
try:
    DigestSettings(timezone="America")
    folder = "accepted"
except ValidationError as error:
    folder = error.errors()[0]["msg"]
from bot.domain.digests import find_zones, parse_zone
print(json.dumps({
    "configured": DigestSettings(timezone="Europe/Paris").timezone,
    "city": find_zones("new york")[:1],
    "typed": parse_zone("paris"),
    "zones": len(available_timezones()),
    "folder": folder,
}))
"""


def test_zone_lookup_works_without_system_zone_data(tmp_path: Path) -> None:
    no_zone_data = tmp_path / "zoneinfo"
    no_zone_data.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={"PYTHONTZPATH": str(no_zone_data)},
        cwd=Path(__file__).parents[3],  # the checkout, so `bot` imports from it
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["configured"] == "Europe/Paris"
    assert found["city"] == ["America/New_York"]
    assert found["typed"] == "Europe/Paris"
    assert found["zones"] > 400
    assert found["folder"] == (
        "Value error, unknown time zone 'America' (use an IANA name such as Europe/Paris)"
    )
