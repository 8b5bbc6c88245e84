"""Headless Debian Chromium driven by Selenium: for the explorer's end-to-end test and its screenshot.

The flags keep Chromium off the network (its background services would otherwise be refused,
many at a time, on a closed machine) and out of any shared profile.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1100")


def headless_chromium(profile: Path | None = None):
    """A Selenium Chrome driver on /usr/bin/chromium (apt-get install chromium chromium-driver); the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + ((f"--user-data-dir={profile}",) if profile else ()):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
