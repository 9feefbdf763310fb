"""Seed-shaped synthetic article corpora for benchmarks and evaluations.

Each file holds one article in the same front-matter layout as the real export (see
``/work/shared/samples``). Articles are grouped into *stories*: one event covered by several
outlets, each with its own title phrasing, excerpt, provider, URL and time (within +/- 36 hours
of the story, so any two articles of a story lie within 3 days). A file's ``related`` list holds
other outlets' coverage of the same story. *Distractor* stories reuse a family's organisation,
event kind and topics with different facts, so same-topic/same-word results are not automatically
same-story results.

The ground truth (story id -> canonical URLs of every article that appears in the corpus, as a
file or as a related entry) is returned and written to ``OUT_DIR/stories.json``; counts go to
``OUT_DIR/manifest.json``.

    python -m bench.corpus OUT_DIR --count 10000 --seed 1
"""

from __future__ import annotations

import argparse
import base64
import bisect
import hashlib
import itertools
import json
import random
import re
import shutil
import sys
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 1
MANIFEST_NAME = "manifest.json"
STORIES_NAME = "stories.json"

# --- vocabulary ------------------------------------------------------------------------------

# (topic, nouns used as the story's "tech"), in popularity order (Zipf rank).
TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AI", ("AI model", "AI assistant", "generative AI tool", "large language model")),
    ("Cybersecurity", ("security platform", "threat detection system", "endpoint software")),
    ("Privacy", ("privacy tool", "ad-tracking system", "data broker service")),
    ("Climate", ("carbon capture plant", "climate model", "emissions tracker")),
    (
        "Computer Vision",
        ("facial recognition system", "image recognition software", "smart camera"),
    ),
    (
        "Machine Learning",
        ("machine learning platform", "recommendation engine", "prediction model"),
    ),
    ("Big Tech", ("app store", "search engine", "ad platform")),
    ("Regulation", ("compliance platform", "age verification system", "moderation system")),
    ("Electric Vehicles", ("electric SUV", "EV charging network", "electric truck")),
    ("Semiconductors", ("AI chip", "3nm processor", "memory chip")),
    ("Cloud Computing", ("cloud platform", "data center", "serverless service")),
    ("Startups", ("no-code platform", "developer tool", "subscription app")),
    ("Social Media", ("social app", "short-video feature", "recommendation feed")),
    ("Healthcare", ("diagnostic tool", "telehealth platform", "patient records system")),
    ("Ransomware", ("ransomware strain", "extortion gang's leak site", "backup system")),
    ("Renewable Energy", ("offshore wind farm", "grid-scale battery", "solar farm")),
    ("Robotics", ("warehouse robot", "humanoid robot", "robotic arm")),
    ("Space", ("satellite constellation", "reusable rocket", "lunar lander")),
    ("Autonomous Vehicles", ("robotaxi service", "self-driving system", "driver-assist software")),
    ("Surveillance", ("license plate reader", "surveillance network", "spyware tool")),
    ("Natural Language Processing", ("translation model", "speech recognition system")),
    ("Cryptocurrency", ("crypto exchange", "stablecoin", "bitcoin ETF")),
    ("Misinformation", ("fact-checking tool", "deepfake detector", "content labeling system")),
    ("Antitrust", ("ad tech business", "app marketplace", "default search deal")),
    ("Data Protection", ("data transfer framework", "consent platform", "encryption service")),
    ("Quantum Computing", ("quantum computer", "quantum processor", "post-quantum encryption")),
    ("Smartphones", ("foldable phone", "flagship smartphone", "mobile operating system")),
    ("Fintech", ("payments app", "buy-now-pay-later service", "digital bank")),
    ("Batteries", ("solid-state battery", "sodium-ion battery", "battery recycling plant")),
    ("Energy", ("power grid software", "smart meter", "hydrogen electrolyzer")),
    ("Open Source", ("open-source library", "open-source database", "Linux distribution")),
    ("Deep Learning", ("neural network", "training cluster", "foundation model")),
    ("Chatbots", ("chatbot", "customer service bot", "AI companion app")),
    ("Gaming", ("game streaming service", "handheld console", "multiplayer game")),
    ("Telecommunications", ("fiber network", "mobile network", "undersea cable")),
    ("5G", ("5G network", "5G modem", "private 5G network")),
    ("E-commerce", ("online marketplace", "checkout system", "same-day delivery service")),
    ("Biotech", ("gene therapy", "mRNA vaccine", "protein design platform")),
    ("Genomics", ("DNA sequencer", "genetic testing service", "genome database")),
    ("Internet of Things", ("smart home hub", "connected sensor", "IoT platform")),
    ("Virtual Reality", ("VR headset", "virtual reality platform", "mixed reality headset")),
    ("Augmented Reality", ("AR glasses", "augmented reality app", "AR navigation system")),
    ("Wearables", ("smartwatch", "fitness tracker", "smart ring")),
    ("Education", ("tutoring app", "online learning platform", "exam proctoring software")),
    ("Remote Work", ("video conferencing app", "remote work platform", "monitoring software")),
    ("Labor", ("gig work app", "scheduling software", "hiring algorithm")),
    ("Supply Chain", ("logistics platform", "freight tracking system", "inventory software")),
    ("Manufacturing", ("chip fab", "gigafactory", "3D printing system")),
    ("Agriculture", ("crop monitoring drone", "vertical farm", "precision irrigation system")),
    ("Drones", ("delivery drone", "drone fleet", "counter-drone system")),
    ("Smart Cities", ("traffic management system", "smart streetlight network", "sensor grid")),
    ("Solar", ("perovskite solar cell", "rooftop solar program", "solar panel factory")),
    ("Nuclear", ("small modular reactor", "fusion reactor", "nuclear plant")),
    ("Transportation", ("high-speed rail line", "ride-hailing app", "e-scooter service")),
    ("Aviation", ("electric aircraft", "air taxi", "flight booking system")),
    ("Elections", ("voting machine", "election security program", "political ad library")),
    ("Defense", ("military AI system", "drone defense system", "battlefield network")),
    ("Software Development", ("coding assistant", "code review tool", "programming language")),
    ("Venture Capital", ("venture fund", "AI fund", "startup accelerator")),
    ("Streaming", ("streaming service", "music streaming app", "live TV platform")),
)
# Topics that are often tagged together: an extra topic comes from the family half the time.
TOPIC_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("AI", "Machine Learning", "Deep Learning", "Computer Vision", "Natural Language Processing",
     "Chatbots"),
    ("Cybersecurity", "Ransomware", "Privacy", "Data Protection", "Surveillance"),
    ("Climate", "Renewable Energy", "Solar", "Nuclear", "Energy", "Batteries",
     "Electric Vehicles"),
    ("Regulation", "Antitrust", "Big Tech", "Social Media", "Misinformation", "Elections"),
    ("Startups", "Venture Capital", "Fintech", "Cryptocurrency", "E-commerce"),
    ("Robotics", "Drones", "Autonomous Vehicles", "Manufacturing", "Supply Chain"),
    ("Healthcare", "Biotech", "Genomics", "Wearables"),
)  # fmt: skip

_ORG_HEADS = (
    "Nex", "Vel", "Quan", "Lum", "Aster", "Cor", "Heli", "Nov", "Orb", "Pix", "Syn", "Ter",
    "Vor", "Zen", "Arc", "Brig", "Clar", "Dyn", "Ever", "Flu", "Graph", "Hyper", "Ion", "Kai",
)  # fmt: skip
_ORG_TAILS = (
    "ora", "trix", "tum", "io", "is", "ex", "gen", "wave", "path", "mind", "loop", "forge",
    "scale", "grid", "core", "ly", "ant", "ify",
)  # fmt: skip
_ORG_FORMS = ("{}", "{}", "{}", "{} Labs", "{} Systems", "{} AI", "{} Technologies", "{} Inc.")
REGULATORS = (
    "the European Commission", "the FTC", "Britain's ICO", "Ireland's Data Protection Commission",
    "the SEC", "California regulators", "France's CNIL", "Japan's Fair Trade Commission",
    "India's competition watchdog", "Australia's ACCC", "the US Justice Department",
    "Germany's cartel office", "South Korea's KFTC", "Italy's privacy watchdog", "the CFPB",
)  # fmt: skip
PLACES = (
    "California", "Texas", "New York", "Illinois", "Washington state", "Massachusetts", "Oregon",
    "the EU", "Germany", "France", "Italy", "Spain", "the Netherlands", "Sweden", "Ireland",
    "the UK", "Scotland", "Canada", "Ontario", "Quebec", "Australia", "New Zealand", "Japan",
    "South Korea", "India", "Singapore", "Brazil", "Mexico", "Kenya", "Nigeria", "South Africa",
    "Zürich", "Berlin", "Paris", "London", "Toronto", "San Francisco", "Seattle", "Austin",
    "Boston", "São Paulo", "Bengaluru", "Tokyo", "Seoul", "Dublin", "Amsterdam",
)  # fmt: skip
UNIVERSITIES = (
    "MIT", "Stanford University", "ETH Zürich", "the University of Toronto", "Oxford University",
    "Imperial College London", "Tsinghua University", "Carnegie Mellon University", "EPFL",
    "the University of Washington", "UC Berkeley", "Cambridge University", "KAIST",
    "the University of Melbourne", "TU Munich", "Georgia Tech", "the Max Planck Institute",
)  # fmt: skip
FIRST_NAMES = (
    "Ana", "Ben", "Chloé", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "James", "Kavya",
    "Liam", "Maria", "Nils", "Olu", "Priya", "Quentin", "Rosa", "Sam", "Tomás", "Uma", "Wei",
)  # fmt: skip
LAST_NAMES = (
    "Alvarez", "Becker", "Chen", "Dubois", "Evans", "Fischer", "García", "Hughes", "Ito",
    "Jensen", "Kowalski", "Lee", "Moreau", "Novak", "O'Brien", "Patel", "Rossi", "Silva",
    "Tanaka", "Varga", "Walsh", "Yilmaz", "Zhang",
)  # fmt: skip
ROLES = ("chief executive", "chief technology officer", "head of research", "president",
         "general counsel", "chief security officer", "co-founder")  # fmt: skip
ISSUES = (
    "children's data", "ad tracking", "misleading claims", "app store rules", "data transfers",
    "worker surveillance", "biometric data", "cookie consent", "location data", "hate speech",
    "price fixing", "unfair contract terms", "security lapses", "dark patterns",
)  # fmt: skip
USERS = ("users", "customers", "patients", "students", "drivers", "account holders",
         "employees", "subscribers", "voters")  # fmt: skip
AUDIENCES = ("hospitals", "small businesses", "schools", "banks", "developers", "farmers",
             "police departments", "retailers", "city governments", "gamers",
             "carmakers")  # fmt: skip
INVESTORS = ("Sequoia", "Andreessen Horowitz", "Index Ventures", "Accel", "SoftBank",
             "Lightspeed", "General Catalyst", "Atomico", "Tiger Global",
             "Khosla Ventures")  # fmt: skip
ROUNDS = ("seed", "Series A", "Series B", "Series C", "Series D", "growth")
VENUES = ("schools", "public spaces", "government agencies", "hospitals", "police work",
          "workplaces", "stadiums", "public housing")  # fmt: skip
SERVICES = ("cloud service", "payments app", "messaging platform", "email service",
            "video platform", "banking app")  # fmt: skip
CAUSES = ("a faulty configuration change", "a power failure at a data center", "a cyberattack",
          "a botched software update", "a network routing error", "a cooling failure")  # fmt: skip
IMPACTS = ("take over devices", "steal passwords", "run malicious code", "bypass login checks",
           "spy on users", "read private messages", "crash servers")  # fmt: skip
AGENCIES = ("the IEA", "the UN", "the WMO", "the IPCC", "the World Bank", "Gartner", "IDC",
            "the OECD", "the IMF", "Europol", "CISA", "ENISA")  # fmt: skip
PHENOMENA = ("data center electricity demand", "e-waste", "extreme heat", "sea level rise",
             "chip shortages", "ransomware attacks", "AI adoption", "EV sales", "heat pump sales",
             "online fraud", "cloud spending", "satellite launches")  # fmt: skip
EFFECTS = ("double", "triple", "cost {money} a year", "affect {num} people", "halve",
           "outpace forecasts", "hit record levels")  # fmt: skip
FINDINGS = (
    ("cut energy use by {pct}", "cuts energy use by {pct}"),
    ("detect early signs of disease", "detects early signs of disease"),
    ("predict floods days earlier", "predicts floods days earlier"),
    ("reduce false alarms by {pct}", "reduces false alarms by {pct}"),
    ("outperform human experts", "outperforms human experts"),
    ("leak sensitive personal data", "leaks sensitive personal data"),
    ("be fooled by simple stickers", "is fooled by simple stickers"),
    ("spot fraud in real time", "spots fraud in real time"),
    ("amplify bias against women", "amplifies bias against women"),
)
PLAINTIFFS = ("{place}'s attorney general", "a group of authors", "{org2}",
              "a coalition of parents", "former employees", "consumer groups in {place}",
              "news publishers")  # fmt: skip
ACCUSATIONS = ("misusing {users}' data", "misleading investors about its {tech}",
               "copying {org2}'s code", "violating privacy laws", "underpaying contractors",
               "hiding security flaws")  # fmt: skip
COURTS = ("federal court in San Francisco", "the High Court in London", "a Delaware court",
          "a Paris court", "federal court in Manhattan", "a court in Amsterdam")  # fmt: skip
UNITS = ("its {tech} division", "{place}", "sales and marketing", "its cloud unit",
         "recruiting", "its hardware group")  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
MONTHS = ("January", "March", "April", "June", "July", "September", "October", "December")
SEASONS = ("week", "month", "quarter", "year")
TITLE_PREFIXES = ("Analysis:", "Exclusive:", "Update:", "Report:", "Explainer:", "Opinion:",
                  "Breaking:", "In brief:", "Live:", "Q&A:")  # fmt: skip
UTM_SOURCES = ("rss", "twitter", "newsletter", "facebook", "linkedin", "flipboard")
FRAGMENTS = ("comments", "section-2", "top", "ref-rss", "story-continues")

_CITIES = (
    "Austin", "Boston", "Denver", "Seattle", "Leeds", "Bristol", "Dublin", "Toronto", "Sydney",
    "Auckland", "Chicago", "Portland", "Phoenix", "Atlanta", "Miami", "Oakland", "Glasgow",
    "Cardiff", "Melbourne", "Vancouver", "Ottawa", "Detroit", "Tampa", "Nashville", "Raleigh",
    "Omaha", "Tucson", "Boise", "Halifax", "Perth", "Brisbane", "Calgary", "Manchester",
    "Liverpool", "Belfast", "Edinburgh", "Cork", "Wellington", "Dallas", "Houston",
)  # fmt: skip
_PAPERS = ("Herald", "Tribune", "Chronicle", "Gazette", "Post", "Times", "Courier", "Ledger",
           "Observer", "Dispatch", "Journal", "Standard", "Examiner", "Sentinel")  # fmt: skip
_TECH_A = ("Byte", "Data", "Code", "Silicon", "Circuit", "Pixel", "Signal", "Vector", "Kernel",
           "Cipher", "Quantum", "Cloud", "Stack", "Logic", "Binary")  # fmt: skip
_TECH_B = ("Wire", "Beat", "Pulse", "Scope", "Watch", "Post", "Digest", "Insider", "Report",
           "Hub", "Brief", "Lab", "Daily", "Radar", "Feed")  # fmt: skip
_FIELDS = ("Security", "Climate", "Robotics", "Fintech", "Privacy", "Space", "Energy",
           "Health IT", "Mobile", "Chip", "Cloud", "Campus Safety", "Mobility",
           "Policy")  # fmt: skip
_FIELD_SUFFIXES = ("Today", "Weekly", "Review", "Insider", "News", "Dive", "Magazine", "Journal")
_TLDS = (".com",) * 14 + (".co.uk", ".net", ".io", ".org", ".news", ".com.au", ".ca")
_SECTIONS = ("tech", "business", "science", "world", "technology", "news", "policy", "money")
_IMAGE_SIZES = ((1200, 630), (2560, 1483), (1920, 1080), (800, 450), (583, 300), (1024, 576),
                (640, 360), (1600, 900))  # fmt: skip
_CATEGORIES = ("news",) * 17 + ("research", "opinion", "review")
_KINDS_WEIGHTS = (
    ("launch", 16), ("funding", 10), ("fine", 8), ("breach", 8), ("acquisition", 7),
    ("study", 12), ("ban", 6), ("layoffs", 6), ("outage", 5), ("lawsuit", 7), ("report", 8),
    ("vulnerability", 7),
)  # fmt: skip

# The low-vocabulary preset's headline words: common news words, none a grouping stopword.
LOW_VOCABULARY = (
    "government", "election", "vote", "market", "prices", "bank", "rates", "police", "court",
    "city", "state", "president", "minister", "officials", "plan", "deal", "crisis", "talks",
    "workers", "strike", "record", "rise", "fall", "warn", "storm", "fire", "health",
    "school", "energy", "tax", "budget", "trade", "war", "peace", "report", "leaders",
    "protest", "results", "shares", "power",
)  # fmt: skip

# Title and excerpt templates per event kind; outlets covering one story pick different ones.
TITLES: dict[str, tuple[str, ...]] = {
    "launch": (
        "{org} unveils {product}, a {tech} for {audience}",
        "{org} launches {product} {tech} aimed at {audience}",
        "{org} debuts {tech} {product}",
        "{org}'s new {tech}, {product}, targets {audience}",
        "Meet {product}: {org}'s {tech} for {audience}",
        "{org} rolls out {product} as it pushes deeper into {topic_l}",
        "{org} introduces {product}, promising {pct} faster {tech}",
    ),
    "funding": (
        "{org} raises {money} to expand {tech}",
        "{org} secures {money} {round} for its {tech}",
        "{tech} startup {org} lands {money} in {round} funding",
        "Investors pour {money} into {org}'s {tech}",
        "{org} closes {money} {round} led by {investor}",
        "{investor} backs {org} with {money} as {topic_l} funding heats up",
    ),
    "fine": (
        "{reg} fines {org} {money} over {issue}",
        "{org} hit with {money} fine over {issue}",
        "{org} ordered to pay {money} by {reg} for {issue}",
        "{money} penalty for {org} after {reg} probe into {issue}",
        "{reg} slaps {org} with {money} fine",
        "{org} to appeal {money} {issue} fine",
    ),
    "breach": (
        "{org} confirms data breach affecting {num} {users}",
        "Hackers steal data of {num} {users} in {org} breach",
        "{num} {users} exposed in {org} cyberattack",
        "{org} says attackers accessed records of {num} {users}",
        "Data of {num} {org} {users} leaked online",
        "{org} breach: what {users} need to know",
    ),
    "acquisition": (
        "{org} to acquire {org2} for {money}",
        "{org} buys {org2} in {money} deal",
        "{org2} agrees to {money} takeover by {org}",
        "{org} snaps up {tech} firm {org2}",
        "{org}-{org2} deal: what the {money} acquisition means for {topic_l}",
        "Why {org} is paying {money} for {org2}",
    ),
    "study": (
        "{tech} can {finding}, study finds",
        "Study: {tech} {finding_3p}",
        "{univ} researchers show {tech} can {finding}",
        "New research suggests {tech} could {finding}",
        "Scientists at {univ} find {tech} {finding_3p}",
        "Can {tech} {finding}? {univ} study says yes",
    ),
    "ban": (
        "{place} bans {tech} in {venue}",
        "{place} lawmakers vote to restrict {tech} in {venue}",
        "{place} moves to outlaw {tech} in {venue}",
        "{place} becomes latest to curb {tech} in {venue}",
        "Ban on {tech} in {venue} approved in {place}",
        "{tech} ban in {venue} clears final vote in {place}",
    ),
    "layoffs": (
        "{org} to cut {jobs} jobs in {unit}",
        "{org} lays off {jobs} workers as {tech} demand slows",
        "{jobs} jobs axed at {org}",
        "{org} announces {jobs} layoffs, restructures {unit}",
        "{org} cuts {pct} of staff in latest {topic_l} shake-up",
    ),
    "outage": (
        "{org} {service} down for hours after {cause}",
        "{org} outage knocks {service} offline for {num} {users}",
        "{org} restores {service} after {hours}-hour outage",
        "{service} outage at {org} blamed on {cause}",
        "{org} apologizes for {hours}-hour {service} outage",
    ),
    "lawsuit": (
        "{plaintiff} sues {org} over {issue}",
        "{org} faces lawsuit from {plaintiff} over {issue}",
        "{plaintiff} takes {org} to court over {issue}",
        "Lawsuit accuses {org} of {accusation}",
        "{org} sued for {accusation}",
    ),
    "report": (
        "{agency} warns {phenomenon} could {effect} by {year}",
        "{phenomenon} could {effect} by {year}, {agency} says",
        "Report: {phenomenon} on track to {effect} by {year}",
        "{agency}: {phenomenon} threatens to {effect} by {year}",
        "{phenomenon} set to {effect} by {year}, warns {agency}",
    ),
    "vulnerability": (
        "Critical flaw in {software} lets attackers {impact}",
        "{software} bug could let hackers {impact}",
        "{org} patches {software} vulnerability exploited in the wild",
        "Patch now: {software} flaw {cve} under active attack",
        "{cve}: hackers exploit {software} to {impact}",
    ),
}
EXCERPTS: dict[str, tuple[str, ...]] = {
    "launch": (
        "{org} on {weekday} introduced {product}, a {tech} designed for {audience}, and said it "
        "would be available in {place} first.",
        "The {tech}, called {product}, is {org}'s latest bid to compete in {topic_l}; pricing "
        "starts at {price} a month.",
        "{product} promises {pct} better performance than its predecessor, {org} said at an "
        "event in {place}.",
    ),
    "funding": (
        "{org}, a {place}-based maker of {tech} tools, has raised {money} in a {round} round "
        "led by {investor}.",
        "The {round} round values {org} at {money2}, according to people familiar with the deal.",
        "{investor} led the round; {org} plans to use the money to hire in {place} and scale "
        "its {tech}.",
    ),
    "fine": (
        "{reg_cap} said {org} broke the rules on {issue} and must pay {money} within {ndays} days.",
        "The decision caps a {nmonths}-month investigation into {org}'s handling of {issue}.",
        "{org} said it would appeal the {money} fine, arguing that regulators misread how its "
        "{tech} works.",
    ),
    "breach": (
        "{org} said an unauthorized party accessed a {tech} holding names and email addresses "
        "of about {num} {users}.",
        "The breach, first spotted on {weekday}, affects {users} in {place} and beyond, {org} "
        "said in a filing.",
        "Security researchers say the stolen {org} data surfaced on a criminal forum days "
        "before the company disclosed the incident.",
    ),
    "acquisition": (
        "{org} agreed to buy {org2}, a developer of {tech}, for {money} in cash and stock, the "
        "companies said.",
        "The acquisition gives {org} a foothold in {topic_l} and is expected to close by "
        "{quarter}.",
        "{org2}'s {nemp} employees will join {org}'s {place} office once the deal closes.",
    ),
    "study": (
        "Researchers at {univ} found that {tech} can {finding}, according to a paper published "
        "this week.",
        "A team at {univ} tested the {tech} on data from {num} {users} in {place}.",
        "The findings, which have not yet been peer reviewed, suggest {tech} could {finding} "
        "at scale.",
    ),
    "ban": (
        "Lawmakers in {place} voted {votes} to ban the use of {tech} in {venue}, citing concerns "
        "over {issue}.",
        "The measure, which takes effect in {month}, makes {place} one of the first places to "
        "restrict {tech} in {venue}.",
        "Civil liberties groups welcomed the ban, while vendors of {tech} warned it would slow "
        "adoption.",
    ),
    "layoffs": (
        "{org} will eliminate about {jobs} positions, roughly {pct} of its workforce, "
        "{person} told staff in a memo.",
        "The cuts fall mostly on {unit}, people familiar with the matter said.",
        "{org} joins a growing list of companies trimming staff as spending on {topic_l} cools.",
    ),
    "outage": (
        "{users_cap} could not reach {org}'s {service} for about {hours} hours on {weekday}, "
        "which the company blamed on {cause}.",
        "{org} said the {service} was fully restored and that no data was lost in the outage, "
        "which began in {place}.",
        "It was the second major disruption to the {service} this {season}.",
    ),
    "lawsuit": (
        "The complaint, filed in {court}, accuses {org} of {accusation}.",
        "The plaintiffs are seeking {money} in damages from {org}, according to the filing.",
        "{org} said the lawsuit over {issue} was without merit and that it would fight it.",
    ),
    "report": (
        "{phenomenon_cap} could {effect} by {year}, {agency} said in a report published on "
        "{weekday}.",
        "The report, based on data from {nn} countries, calls for faster action on {topic_l}.",
        "Authors of the report from {agency} singled out {place} as a region to watch.",
    ),
    "vulnerability": (
        "A vulnerability tracked as {cve} in {software} allows remote attackers to {impact}, "
        "researchers at {org2} said.",
        "{org} released a fix for {cve} on {weekday} and urged customers to update immediately.",
        "Attackers have already used the flaw against targets in {place}, according to {agency}.",
    ),
}
GENERIC_SENTENCES = (
    "The news comes amid growing scrutiny of {topic_l} in {place}.",
    '{person}, {role} at {org}, said the company was "moving quickly" on {tech}.',
    "Shares of {org} moved {small_pct} in early trading.",
    "Analysts said the move could reshape the market for {tech}.",
    "{org} did not immediately respond to a request for comment.",
    "It is the latest in a string of {topic_l} announcements this {season}.",
    "Critics say the episode shows how little oversight there is of {tech}.",
)
_SMALL_WORDS = frozenset((
    "a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to", "via",
    "vs", "with", "from", "into", "over", "after",
))  # fmt: skip
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PLAIN_SAFE = re.compile(r"[A-Za-z][A-Za-z0-9 .&'-]*[A-Za-z0-9.]")
_YAML_WORDS = frozenset(
    ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"]
)  # words a plain scalar must not be


# --- spec and result -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorpusSpec:
    """What to generate. The same spec always produces the same bytes."""

    count: int = 10_000
    seed: int = 1
    start_epoch: int = 1_640_995_200  # 2022-01-01T00:00:00Z
    days: int = 730
    cross_link_rate: float = 0.02  # files whose related list names another file's article
    utm_rate: float = 0.01  # article URLs published with utm_* tracking parameters
    fragment_rate: float = 0.005  # article URLs published with a #fragment
    distractor_rate: float = 0.3  # stories that reuse a previous story's org, kind and topics
    # "templates": headlines from the event templates above; "lowvocab": every headline is
    # 6-12 of LOW_VOCABULARY's 40 words (a burst of news in few words: an election night)
    headlines: str = "templates"

    def key(self) -> dict[str, Any]:
        """What identifies a generated corpus, for reuse checks."""
        return {"generator_version": GENERATOR_VERSION, **asdict(self)}


# Presets selectable by name (``--corpus`` / ``--preset``): changes to the default spec.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # 0-3 related entries per file, every article within one month
    "lowvocab": {"headlines": "lowvocab", "days": 30, "cross_link_rate": 0.0},
}


def preset_spec(name: str, count: int, seed: int) -> CorpusSpec:
    """The spec of preset ``name`` for ``count`` files from ``seed``."""
    if name not in PRESETS:
        raise ValueError(f"unknown corpus preset {name!r} (known: {', '.join(PRESETS)})")
    return CorpusSpec(count=count, seed=seed, **PRESETS[name])


@dataclass(slots=True)
class CorpusResult:
    """The ground truth of a generated corpus."""

    out_dir: Path
    files: int
    expected_articles: int  # parents + unique coverage-only related articles
    stories: dict[str, list[str]]  # story id -> canonical URLs of its articles
    families: dict[str, list[str]]  # distractor family id -> story ids sharing org/kind/topics
    cross_linked_files: int
    decorated_urls: int
    seconds: float

    def manifest(self, spec: CorpusSpec) -> dict[str, Any]:
        return {
            **spec.key(),
            "files": self.files,
            "expected_articles": self.expected_articles,
            "coverage_only_articles": self.expected_articles - self.files,
            "stories": len(self.stories),
            "families": len(self.families),
            "cross_linked_files": self.cross_linked_files,
            "decorated_urls": self.decorated_urls,
            "seconds": round(self.seconds, 3),
        }


# --- internals -------------------------------------------------------------------------------


class _Zipf:
    """Pick items with probability proportional to 1 / rank**exponent."""

    def __init__(self, items: Sequence[Any], exponent: float) -> None:
        self.items = list(items)
        weights = (1.0 / (rank + 1) ** exponent for rank in range(len(self.items)))
        self._cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> Any:
        point = rng.random() * self._cumulative[-1]
        return self.items[bisect.bisect_right(self._cumulative, point)]


@dataclass(slots=True)
class _Provider:
    name: str
    domain: str
    host: str
    path_style: int
    image_style: int
    title_case: bool
    prefix_rate: float


@dataclass(slots=True)
class _Article:
    url: str  # canonical
    web_url: str  # as published (may carry utm_* or a fragment)
    title: str
    excerpt: str
    ts: int
    provider: _Provider
    quality: int
    type: str
    images: list[tuple[str, int, int, bool]]


@dataclass(slots=True)
class _File:
    article: _Article
    story: str
    topics: list[str]
    related: list[tuple[_Article, str]] = field(default_factory=list)  # (article, webUrl shown)


def _slug(text: str, limit: int = 80) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = _NON_ALNUM.sub("-", folded).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "story"


def _title_case(text: str) -> str:
    words = text.split(" ")
    for index, word in enumerate(words):
        if index and word.lower() in _SMALL_WORDS:
            continue
        if word[:1].islower():
            words[index] = word[:1].upper() + word[1:]
    return " ".join(words)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _plain(text: str) -> str:
    """The bare scalar when YAML reads it back as the same string, else a quoted one."""
    if _PLAIN_SAFE.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return _q(text)


def _stamp(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _money(millions: float, currency: str, style: int) -> str:
    if millions >= 1000:
        value = f"{millions / 1000:.1f}".removesuffix(".0")
        return (f"{currency}{value} billion", f"{currency}{value}bn", f"{currency}{value}B")[style]
    value = f"{millions:.0f}"
    return (f"{currency}{value} million", f"{currency}{value}m", f"{currency}{value}M")[style]


def _count(value: int, style: int) -> str:
    if value >= 1_000_000:
        short = f"{value / 1_000_000:.1f}".removesuffix(".0")
        return f"{short} million" if style == 0 else f"{short}m"
    if value >= 10_000 and style == 1:
        return f"{value // 1000}k"
    return f"{value:,}"


def _topic_text(topic: str) -> str:
    return topic if any(c.isupper() for c in topic[1:]) or topic.isupper() else topic.lower()


class _Generator:
    def __init__(self, spec: CorpusSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.used_urls: set[str] = set()
        self.topics = _Zipf([name for name, _ in TOPICS], 1.05)
        self.nouns = dict(TOPICS)
        self.family_of = {t: fam for fam in TOPIC_FAMILIES for t in fam}
        self.kinds = [k for k, _ in _KINDS_WEIGHTS]
        self.kind_cum = list(itertools.accumulate(w for _, w in _KINDS_WEIGHTS))
        self.orgs = _Zipf(self._org_names(), 0.9)
        self.providers = _Zipf(self._providers(), 0.8)
        self.decorated = 0

    # vocabulary built from the seed

    def _org_names(self) -> list[str]:
        rng = self.rng
        names = [
            rng.choice(_ORG_FORMS).format(head + tail) for head in _ORG_HEADS for tail in _ORG_TAILS
        ]
        rng.shuffle(names)
        return names[:240]

    def _providers(self) -> list[_Provider]:
        rng = self.rng
        names = [f"The {c} {p}" for c in _CITIES for p in _PAPERS[:4]]
        names += [f"{c} {p}" for c in _CITIES for p in _PAPERS[4:8]]
        names += [a + b for a in _TECH_A for b in _TECH_B]
        names += [f"{f} {s}" for f in _FIELDS for s in _FIELD_SUFFIXES]
        names += [f"{c} Business Journal" for c in _CITIES]
        rng.shuffle(names)
        providers: list[_Provider] = []
        domains: set[str] = set()
        for name in names:
            base = _NON_ALNUM.sub("", _slug(name.removeprefix("The ")))
            domain = base + rng.choice(_TLDS)
            if domain in domains:
                continue
            domains.add(domain)
            host_kind = rng.random()
            host = f"www.{domain}" if host_kind < 0.6 else domain
            if host_kind > 0.93:
                host = f"news.{domain}"
            providers.append(
                _Provider(
                    name=name,
                    domain=domain,
                    host=host,
                    path_style=rng.randrange(7),
                    image_style=rng.randrange(3),
                    title_case=rng.random() < 0.5,
                    prefix_rate=rng.choice((0.0, 0.0, 0.05, 0.15, 0.3)),
                )
            )
            if len(providers) == 300:
                break
        return providers

    # stories

    def _pick_topics(self) -> list[str]:
        rng = self.rng
        primary = self.topics.pick(rng)
        wanted = rng.choices((1, 2, 3, 4), (35, 35, 20, 10))[0]
        topics = [primary]
        for _ in range(20):
            if len(topics) >= wanted:
                break
            family = self.family_of.get(topics[0])
            extra = rng.choice(family) if family and rng.random() < 0.5 else self.topics.pick(rng)
            if extra not in topics:
                topics.append(extra)
        return topics

    def _facts(self, kind: str, org: str, topics: list[str]) -> dict[str, Any]:
        rng = self.rng
        org2 = self.orgs.pick(rng)
        while org2 == org:
            org2 = self.orgs.pick(rng)
        tech = rng.choice(self.nouns[topics[0]])
        tech2 = rng.choice(self.nouns[topics[-1]])
        place = rng.choice(PLACES)
        finding, finding_3p = rng.choice(FINDINGS)
        pct = f"{rng.randrange(5, 80)}%"
        millions = rng.choice((rng.uniform(2, 90), rng.uniform(100, 900), rng.uniform(1000, 9000)))
        facts: dict[str, Any] = {
            "kind": kind,
            "org": org,
            "org2": org2,
            "reg": rng.choice(REGULATORS),
            "place": place,
            "univ": rng.choice(UNIVERSITIES),
            "tech": tech,
            "tech2": tech2,
            "topic_l": _topic_text(topics[0]),
            "product": f"{rng.choice(_ORG_HEADS)}{rng.choice(_ORG_TAILS)} "
            f"{rng.choice(('2', '3', 'X', 'Pro', 'One', 'Max', 'Go', '5'))}",
            "person": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "role": rng.choice(ROLES),
            "issue": rng.choice(ISSUES),
            "users": rng.choice(USERS),
            "audience": rng.choice(AUDIENCES),
            "investor": rng.choice(INVESTORS),
            "round": rng.choice(ROUNDS),
            "venue": rng.choice(VENUES),
            "service": rng.choice(SERVICES),
            "cause": rng.choice(CAUSES),
            "hours": str(rng.randrange(2, 19)),
            "jobs": f"{rng.choice((rng.randrange(40, 900), rng.randrange(1000, 12000, 100))):,}",
            "pct": pct,
            "small_pct": f"{rng.uniform(0.5, 9):.1f}%",
            "year": str(rng.choice((2026, 2027, 2030, 2035, 2040, 2050))),
            "cve": f"CVE-{rng.choice((2022, 2023))}-{rng.randrange(1000, 49999)}",
            "impact": rng.choice(IMPACTS),
            "agency": rng.choice(AGENCIES),
            "phenomenon": rng.choice(PHENOMENA),
            "court": rng.choice(COURTS),
            "weekday": rng.choice(WEEKDAYS),
            "quarter": f"the {rng.choice(('first', 'second', 'third', 'fourth'))} quarter",
            "month": rng.choice(MONTHS),
            "season": rng.choice(SEASONS),
            "nmonths": str(rng.randrange(6, 40)),
            "ndays": str(rng.choice((30, 60, 90))),
            "nn": str(rng.randrange(20, 190)),
            "votes": f"{rng.randrange(30, 90)}-{rng.randrange(2, 29)}",
            "nemp": f"{rng.randrange(20, 4000):,}",
            "price": f"${rng.choice((9, 19, 29, 49, 99, 199))}",
            "millions": millions,
            "millions2": millions * rng.uniform(4, 20),
            "currency": rng.choice(("$",) * 7 + ("€", "€", "£")),
            "count": rng.choice((rng.randrange(1200, 900_000), rng.randrange(1, 90) * 1_000_000)),
            "finding": finding.replace("{pct}", pct),
            "finding_3p": finding_3p.replace("{pct}", pct),
        }
        facts["software"] = f"{org} {facts['product']}"
        facts["unit"] = rng.choice(UNITS).format(tech=tech, place=place)
        facts["plaintiff"] = rng.choice(PLAINTIFFS).format(place=place, org2=org2)
        facts["accusation"] = rng.choice(ACCUSATIONS).format(
            users=facts["users"], tech=tech, org2=org2
        )
        facts["effect"] = rng.choice(EFFECTS).format(
            money=_money(millions, facts["currency"], 0), num=_count(facts["count"], 0)
        )
        facts["reg_cap"] = _cap(facts["reg"])
        facts["phenomenon_cap"] = _cap(facts["phenomenon"])
        facts["users_cap"] = _cap(facts["users"])
        facts["title_order"] = rng.sample(range(len(TITLES[kind])), len(TITLES[kind]))
        return facts

    def _coverage(
        self, facts: dict[str, Any], outlet: int, provider: _Provider, ts: int
    ) -> _Article:
        """One outlet's article about the story: its own title, excerpt, URL and images."""
        rng = self.rng
        kind = facts["kind"]
        slots = dict(facts)
        style = rng.randrange(3)
        slots["money"] = _money(facts["millions"], facts["currency"], style)
        slots["money2"] = _money(facts["millions2"], facts["currency"], style)
        slots["num"] = _count(facts["count"], rng.randrange(2))
        templates = TITLES[kind]
        order = facts["title_order"]
        title = _cap(templates[order[outlet % len(order)]].format_map(slots))
        article_type = rng.choices(("article", "video", "blog"), (95, 3, 2))[0]
        if article_type == "video":
            title = f"Watch: {title}"
        elif rng.random() < provider.prefix_rate:
            title = f"{rng.choice(TITLE_PREFIXES)} {title}"
        if provider.title_case:
            title = _title_case(title)
        if rng.random() < 0.05:
            title = f"{title} {rng.choice(('-', '|'))} {provider.name}"

        if rng.random() < 0.03:
            excerpt = ""
        else:
            sentences = rng.sample(EXCERPTS[kind], 2)
            if rng.random() < 0.4:
                sentences.append(rng.choice(GENERIC_SENTENCES))
            excerpt = " ".join(s.format_map(slots) for s in sentences)
            if rng.random() < 0.05:
                excerpt = excerpt[: rng.randrange(80, 160)].rstrip() + "…"

        url = self._unique_url(provider, _slug(title), ts, facts["topic_l"])
        web_url = url
        roll = rng.random()
        if roll < self.spec.utm_rate:
            web_url = f"{url}?utm_source={rng.choice(UTM_SOURCES)}&utm_medium=referral"
            self.decorated += 1
        elif roll < self.spec.utm_rate + self.spec.fragment_rate:
            web_url = f"{url}#{rng.choice(FRAGMENTS)}"
            self.decorated += 1
        return _Article(
            url=url,
            web_url=web_url,
            title=title,
            excerpt=excerpt,
            ts=ts,
            provider=provider,
            quality=self._quality(),
            type=article_type,
            images=[],
        )

    def _quality(self) -> int:
        return min(100, int(self.rng.betavariate(1.3, 3.5) * 101))

    def _unique_url(self, provider: _Provider, slug: str, ts: int, topic: str) -> str:
        rng = self.rng
        year, month, day = time.gmtime(ts)[:3]
        section = _slug(topic) if rng.random() < 0.5 else rng.choice(_SECTIONS)
        style = provider.path_style
        if style == 0:
            path = f"/{year}/{month:02d}/{day:02d}/{slug}/"
        elif style == 1:
            path = f"/news/{section}/{slug}-{rng.randrange(10**7, 10**8)}"
        elif style == 2:
            path = f"/article/{slug}"
        elif style == 3:
            path = f"/{section}/{year}-{month:02d}-{day:02d}/{slug}"
        elif style == 4:
            path = f"/story/{rng.randrange(10**5, 10**7)}/{slug}.html"
        elif style == 5:
            path = f"/press-release/{slug}/"
        else:
            path = f"/{section}/{slug}-{rng.getrandbits(48):012x}"
        url = f"https://{provider.host}{path}"
        number = 2
        while url in self.used_urls:
            trail = "/" if path.endswith("/") else ""
            url = f"https://{provider.host}{path.rstrip('/')}-{number}{trail}"
            number += 1
        self.used_urls.add(url)
        return url

    def _images(self, article: _Article, weights: tuple[int, ...]) -> None:
        rng = self.rng
        provider = article.provider
        year, month = time.gmtime(article.ts)[:2]
        for _ in range(rng.choices(range(len(weights)), weights)[0]):
            width, height = rng.choice(_IMAGE_SIZES)
            token = rng.getrandbits(64)
            if provider.image_style == 0:
                url = (
                    f"https://{provider.host}/wp-content/uploads/{year}/{month:02d}/"
                    f"AdobeStock_{token % 10**9}-scaled.jpeg"
                )
            elif provider.image_style == 1:
                url = f"https://cdn.{provider.domain}/images/{token:016x}.jpg"
            else:
                url = f"https://{provider.host}/media/{token:016x}/{width}x{height}.png"
            article.images.append((url, width, height, rng.random() < 0.8))

    def build(self) -> tuple[list[_File], dict[str, list[str]], dict[str, list[str]], int]:
        rng = self.rng
        spec = self.spec
        files: list[_File] = []
        stories: dict[str, list[str]] = {}
        families: list[tuple[str, str, list[str], int, list[str]]] = []  # kind, org, topics, ts
        # 2-3 files per story for some stories; cross-links only happen inside those.
        multi_share = (0.06 * 2 + 0.02 * 3) / (0.92 + 0.06 * 2 + 0.02 * 3)
        cross_p = min(1.0, spec.cross_link_rate / multi_share)
        cross_linked = 0
        while len(files) < spec.count:
            story_id = f"s{len(stories) + 1:06d}"
            roll = rng.random()
            n_files = 3 if roll < 0.02 else 2 if roll < 0.08 else 1
            n_files = min(n_files, spec.count - len(files))
            if families and rng.random() < spec.distractor_rate:
                family = rng.choice(families)
                kind, org, topics = family[0], family[1], list(family[2])
                rng.shuffle(topics)
                topics.sort(key=lambda t: t != family[2][0])  # keep the primary topic first
                if rng.random() < 0.5:
                    center = family[3] + rng.randint(-20, 20) * 86400
                else:
                    center = spec.start_epoch + rng.randrange(spec.days * 86400)
                family[4].append(story_id)
            else:
                kind = self.kinds[bisect.bisect_right(self.kind_cum, rng.random() * 100)]
                org = self.orgs.pick(rng)
                topics = self._pick_topics()
                center = spec.start_epoch + rng.randrange(spec.days * 86400)
                families.append((kind, org, topics, center, [story_id]))
            facts = self._facts(kind, org, topics)
            max_coverage = 5 if n_files == 1 else 4
            n_coverage = rng.choices(range(6), (20, 25, 20, 15, 12, 8))[0]
            n_coverage = min(n_coverage, max_coverage)
            providers: list[_Provider] = []
            while len(providers) < n_files + n_coverage:
                provider = self.providers.pick(rng)
                if provider not in providers:
                    providers.append(provider)
            articles = []
            for outlet, provider in enumerate(providers):
                ts = (center + rng.randint(-36 * 3600, 36 * 3600)) // 60 * 60
                articles.append(self._coverage(facts, outlet, provider, ts))
            parents, coverage = articles[:n_files], articles[n_files:]
            for parent in parents:
                self._images(parent, (25, 60, 15))
            for article in coverage:
                self._images(article, (60, 40))
            story_files = [_File(p, story_id, list(topics)) for p in parents]
            listed: list[list[_Article]] = [[] for _ in story_files]
            for article in coverage:  # every coverage article is listed by at least one file
                listed[rng.randrange(n_files)].append(article)
            for index, story_file in enumerate(story_files):
                for article in coverage:
                    if article not in listed[index] and rng.random() < 0.5:
                        listed[index].append(article)
                order = sorted(listed[index], key=coverage.index)
                story_file.related = [(a, a.web_url) for a in order]
                if n_files > 1 and rng.random() < cross_p:
                    other = rng.choice([f for f in story_files if f is not story_file]).article
                    shown = other.web_url
                    if shown == other.url and rng.random() < 0.3:
                        shown = f"{other.url}?utm_source={rng.choice(UTM_SOURCES)}"
                        self.decorated += 1
                    position = rng.randrange(len(story_file.related) + 1)
                    story_file.related.insert(position, (other, shown))
                    cross_linked += 1
            files.extend(story_files)
            stories[story_id] = [a.url for a in articles]
        family_map = {
            f"f{index + 1:06d}": family[4]
            for index, family in enumerate(families)
            if len(family[4]) > 1
        }
        return files, stories, family_map, cross_linked


class _LowVocabGenerator(_Generator):
    """Stories whose headlines all draw on ``LOW_VOCABULARY``: any two articles of the same
    days share words and grouping keys, while only one story's coverage is near-identical."""

    def build(self) -> tuple[list[_File], dict[str, list[str]], dict[str, list[str]], int]:
        rng = self.rng
        spec = self.spec
        files: list[_File] = []
        stories: dict[str, list[str]] = {}
        while len(files) < spec.count:
            story_id = f"s{len(stories) + 1:06d}"
            center = spec.start_epoch + rng.randrange(spec.days * 86400)
            words = rng.sample(LOW_VOCABULARY, rng.randint(6, 12))
            topics = self._pick_topics()
            providers: list[_Provider] = []
            while len(providers) < 1 + rng.randrange(4):
                provider = self.providers.pick(rng)
                if provider not in providers:
                    providers.append(provider)
            articles = [
                self._low_vocab_article(words, provider, center, topics[0])
                for provider in providers
            ]
            for article in articles:
                self._images(article, (60, 40))
            story_file = _File(articles[0], story_id, topics)
            story_file.related = [(a, a.web_url) for a in articles[1:]]
            files.append(story_file)
            stories[story_id] = [a.url for a in articles]
        return files, stories, {}, 0

    def _low_vocab_article(
        self, words: list[str], provider: _Provider, center: int, topic: str
    ) -> _Article:
        """One outlet's take: the story's words in its own order, now and then one swapped."""
        rng = self.rng
        own = rng.sample(words, len(words))
        if rng.random() < 0.3:
            own[rng.randrange(len(own))] = rng.choice([w for w in LOW_VOCABULARY if w not in words])
        title = _cap(" ".join(own))
        if provider.title_case:
            title = _title_case(title)
        ts = (center + rng.randint(-36 * 3600, 36 * 3600)) // 60 * 60
        excerpt = _cap(" ".join(rng.sample(LOW_VOCABULARY, 14))) + "."
        url = self._unique_url(provider, _slug(title), ts, _topic_text(topic))
        return _Article(
            url=url,
            web_url=url,
            title=title,
            excerpt=excerpt,
            ts=ts,
            provider=provider,
            quality=self._quality(),
            type="article",
            images=[],
        )


def _render(story_file: _File, secured: str, rng: random.Random) -> str:
    article = story_file.article
    provider = article.provider
    category = rng.choice(_CATEGORIES)
    heat = -1 if rng.random() < 0.55 else int(rng.betavariate(1.1, 4) * 101)
    published = "true" if rng.random() < 0.3 else "false"
    original = article.url if rng.random() < 0.95 else article.url.rstrip("/") + "/amp/"
    out = [
        "---\n",
        f"category: {category}\n",
        f"title: {_q(article.title)}\n",
        f"excerpt: {_q(article.excerpt)}\n",
        f"publishedDateTime: {_stamp(article.ts)}\n",
        f"originalUrl: {_q(original)}\n",
        f"webUrl: {_q(article.web_url)}\n",
        f"type: {article.type}\n",
        f"quality: {article.quality}\n",
        f"heat: {heat}\n",
        f"published: {published}\n",
        "\nprovider:\n",
        f"  name: {_plain(provider.name)}\n",
        f"  domain: {provider.domain}\n",
        "\ntopics:\n",
    ]
    out.extend(f"  - {_plain(topic)}\n" for topic in story_file.topics)
    if article.images:
        out.append("\nimages:\n")
        for url, width, height, cached in article.images:
            out.append(
                f"  - url: {_q(url)}\n    width: {width}\n    height: {height}\n"
                f"    isCached: {'true' if cached else 'false'}\n"
            )
    if story_file.related:
        out.append("\nrelated:\n")
        for related, shown in story_file.related:
            rp = related.provider
            out.append(
                f"  - title: {_q(related.title)}\n"
                f"    excerpt: {_q(related.excerpt)}\n"
                f"    publishedDateTime: {_stamp(related.ts)}\n"
                f"    webUrl: {_q(shown)}\n"
                f"    type: {related.type}\n"
                f"    provider:\n      name: {_plain(rp.name)}\n      domain: {rp.domain}\n"
                f"    quality: {related.quality}\n"
            )
            if related.images:
                out.append("    images:\n")
                for url, width, height, cached in related.images:
                    out.append(
                        f"      - url: {_q(url)}\n        width: {width}\n"
                        f"        height: {height}\n"
                        f"        isCached: {'true' if cached else 'false'}\n"
                    )
    out.append(f"\nsecured: {_q(secured)}\n---\n")
    return "".join(out)


def _secured(rng: random.Random) -> str:
    head = base64.b64encode(rng.randbytes(rng.randrange(300, 360))).decode("ascii")
    return f"{head};{base64.b64encode(rng.randbytes(16)).decode('ascii')}"


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The manifest of a corpus generated in ``out_dir``, or None."""
    try:
        return json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def generate_corpus(
    out_dir: Path | str, spec: CorpusSpec | None = None, *, overwrite: bool = False
) -> CorpusResult:
    """Write ``spec.count`` article files into ``out_dir`` and return the ground truth.

    ``out_dir`` must be empty or missing unless ``overwrite`` is set (then it is replaced).
    """
    spec = spec or CorpusSpec()
    out = Path(out_dir)
    started = time.perf_counter()
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out} is not empty (use overwrite=True / --overwrite)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)

    generator = _LowVocabGenerator(spec) if spec.headlines == "lowvocab" else _Generator(spec)
    files, stories, families, cross_linked = generator.build()
    # Chronological, like an export; ties broken by URL so the order is stable.
    files.sort(key=lambda f: (f.article.ts, f.article.url))
    width = max(6, len(str(len(files) - 1)))
    render_rng = random.Random(spec.seed * 1_000_003 + 7)
    mentioned: set[str] = set()
    for index, story_file in enumerate(files):
        url = story_file.article.url
        mentioned.add(url)
        mentioned.update(a.url for a, _ in story_file.related)
        digest = hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]
        text = _render(story_file, _secured(render_rng), render_rng)
        with open(out / f"{index:0{width}d}_{digest}.md", "w", encoding="utf-8") as handle:
            handle.write(text)
    # Only articles that appear somewhere (as a file or a related entry) are ground truth.
    stories = {sid: [u for u in urls if u in mentioned] for sid, urls in stories.items()}
    result = CorpusResult(
        out_dir=out,
        files=len(files),
        expected_articles=len(mentioned),
        stories=stories,
        families=families,
        cross_linked_files=cross_linked,
        decorated_urls=generator.decorated,
        seconds=time.perf_counter() - started,
    )
    truth = {**spec.key(), "stories": stories, "families": families}
    (out / STORIES_NAME).write_text(json.dumps(truth, indent=0), encoding="utf-8")
    (out / MANIFEST_NAME).write_text(
        json.dumps(result.manifest(spec), indent=2) + "\n", encoding="utf-8"
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.corpus", description="Generate a synthetic article corpus."
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT_DIR")
    args = parser.parse_args(argv)
    spec = preset_spec(args.preset, args.count, args.seed)
    try:
        result = generate_corpus(args.out_dir, spec, overwrite=args.overwrite)
    except FileExistsError as error:
        print(error, file=sys.stderr)
        return 2
    print(json.dumps(result.manifest(spec)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
