"""The ways outlets spell one word or number: a plural and its singular, British and American
spelling (``colour``/``color``, ``organise``/``organize``, ``centre``/``center``), and small
numbers in digits or words (``3``/``three``, ``four million``/``4 million``).

Everything here works on folded tokens (lower case, no accents: ``storage.titles.fold``),
so that what it returns can be searched in the full-text index as it is.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

_NOT_PLURALS = frozenset("species series news always perhaps whereas chaos lens atlas".split())
# British spelling -> American, for the words that differ in more than a regular ending.
_WORDS = dict(
    pair.split("/")
    for pair in """
    grey/gray tyre/tire tyres/tires programme/program programmes/programs aluminium/aluminum
    kerb/curb cheque/check cheques/checks mum/mom mums/moms plough/plow jewellery/jewelry
    draught/draft storey/story storeys/stories sceptic/skeptic sceptical/skeptical
    pyjamas/pajamas moustache/mustache aeroplane/airplane aeroplanes/airplanes cosy/cozy
    practise/practice enrol/enroll fulfil/fulfill skilful/skillful wilful/willful
    ageing/aging judgement/judgment acknowledgement/acknowledgment manoeuvre/maneuver
    oestrogen/estrogen foetus/fetus diarrhoea/diarrhea anaemia/anemia leukaemia/leukemia
    haemorrhage/hemorrhage paediatric/pediatric paediatrician/pediatrician
    orthopaedic/orthopedic encyclopaedia/encyclopedia defence/defense licence/license
    offence/offense pretence/pretense analyse/analyze analysed/analyzed paralyse/paralyze
    catalogue/catalog dialogue/dialog analogue/analog travelled/traveled travelling/traveling
    traveller/traveler travellers/travelers cancelled/canceled cancelling/canceling
    labelled/labeled modelling/modeling fuelled/fueled signalled/signaled
    channelled/channeled counselling/counseling levelled/leveled
    """.split()
)
# Stems spelt -our in Britain and -or in America (colour, colours, coloured, neighbourhood).
_OUR = tuple(
    """
    colour favour flavour harbour honour humour labour neighbour rumour behaviour vigour odour
    parlour saviour tumour vapour armour endeavour savour
    """.split()
)
_TRE = tuple("centre metre theatre litre fibre kilometre calibre sombre spectre".split())
# Words ending in -ise that are spelt so in America too.
_ISE = frozenset(
    """
    rise arise raise praise wise otherwise noise poise cruise bruise promise compromise
    premise surprise enterprise exercise advertise expertise franchise merchandise paradise
    precise concise treatise devise revise supervise televise improvise despise disguise
    comprise excise incise chastise
    """.split()
)
_BRITISH = {american: british for british, american in _WORDS.items()}
_STEMS = tuple((stem, stem[:-3] + "or") for stem in _OUR) + tuple(
    (stem, stem[:-2] + "er") for stem in _TRE
)
_STEM_ENDINGS = frozenset(
    "| s ed ing ful ite ites able ably er ers hood hoods less ist ists".replace("|", "").split()
) | {""}
# Words ending in -ize that are spelt so in Britain too.
_IZE = frozenset("size prize seize capsize maize baize".split())
_IZE_ENDINGS = ("ization", "izations", "ize", "ized", "izes", "izing", "izer", "izers")
_UNITS_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
_TENS = {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}  # fmt: skip
NUMBER_WORDS = {word: n for n, word in enumerate(_UNITS_WORDS)} | _TENS
_SPELLED = {n: word for word, n in NUMBER_WORDS.items()}


@lru_cache(maxsize=65536)
def variants(token: str) -> tuple[str, tuple[str, ...]]:
    """A word's key (American, singular) and its forms: as written, singular or plural, and
    their other spelling (British or American)."""
    key, forms = _inflections(token)
    other = tuple(_american(f) for f in forms) + tuple(_british(f) for f in forms)
    if all(f in forms for f in other):
        return key, forms
    return _american(key), tuple(dict.fromkeys((*forms, *other)))


@lru_cache(maxsize=65536)
def respellings(token: str) -> tuple[str, ...]:
    """The word's other spellings (British or American), without its plural."""
    return tuple(dict.fromkeys(f for f in (_american(token), _british(token)) if f != token))


def spelled(value: Decimal) -> str | None:
    """A whole number up to twenty, or a multiple of ten up to ninety, in words."""
    if value != value.to_integral_value():
        return None
    return _SPELLED.get(int(value))


def _inflections(token: str) -> tuple[str, tuple[str, ...]]:
    """A word's key (its singular) and the forms searched for: singular and plural."""
    if (
        len(token) < 4
        or token.endswith(("ed", "ing"))
        or token in _NOT_PLURALS
        or any(c.isdigit() for c in token)
    ):
        return token, (token,)
    if token.endswith("ies") and len(token) > 4:
        stem = token[:-3] + "y"
        return stem, (token, stem)
    if token.endswith(("sses", "xes", "zes", "ches", "shes")):
        return token[:-2], (token, token[:-2])
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1], (token, token[:-1])
    if token.endswith("y") and token[-2] not in "aeiou":
        return token, (token, token[:-1] + "ies")
    if token.endswith(("s", "x", "z", "ch", "sh")):
        return token, (token, token + "es")
    return token, (token, token + "s")


def _american(token: str) -> str:
    """The American spelling of a British word (the word otherwise)."""
    if token in _WORDS:
        return _WORDS[token]
    for british, american in _STEMS:
        if _has_stem(token, british):
            return american + token[len(british) :]
    return _swap_ending(token, "is", "iz", _ISE)


def _british(token: str) -> str:
    """The British spelling of an American word (the word otherwise)."""
    if token in _BRITISH:
        return _BRITISH[token]
    for british, american in _STEMS:
        if _has_stem(token, american):
            return british + token[len(american) :]
    return _swap_ending(token, "iz", "is", _IZE)


def _has_stem(token: str, stem: str) -> bool:
    return token.startswith(stem) and token[len(stem) :] in _STEM_ENDINGS


def _swap_ending(token: str, old: str, new: str, same: frozenset[str]) -> str:
    """``organise``, ``organised``, ``organisation`` -> ``organize``, ... (and back), except
    for words spelt one way everywhere."""
    for ending in _IZE_ENDINGS:
        ending = ending.replace("iz", old, 1)
        stem = token[: -len(ending)]
        if token.endswith(ending) and len(stem) >= 3:
            if stem + old + "e" in same:
                return token
            return stem + ending.replace(old, new, 1)
    return token
