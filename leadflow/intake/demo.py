"""Realistic Belgian/Dutch sample data shared by ``load_demo`` and ``generate_data``.

Names, cities with their telephone zones, company names, questions and reasons, plus
two helpers the demo needs to write history: working-time arithmetic and a clock that
can be frozen so actions stamp past times. Every generator takes a ``random.Random``
so that a seed gives the same data every run.
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from unittest import mock

from django.utils import timezone

from leadflow.core.text import name_key
from leadflow.core.worktime import WORKDAY_END, WORKDAY_START, WORKDAYS


def _split(text: str) -> list[str]:
    """Comma-separated words over several lines -> a list ('De\nSmet' -> 'De Smet')."""
    return [" ".join(w.split()) for w in text.split(",") if w.strip()]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


# --- people ----------------------------------------------------------------------

FIRST_NAMES = _split(
    """
Jan, Piet, Tom, Bart, Koen, Kris, Dirk, Geert, Wim, Luc, Marc, Peter, Johan, Filip,
Stijn, Pieter, Joris, Jeroen, Wouter, Bram, Thomas, Nick, Kevin, Dries, Jens, Ruben,
Lars, Sander, Tim, Jasper, Maarten, Frederik, Steven, Hans, Erik, Ronald, Sven,
Niels, Arne, Seppe, Ward, Robbe, Glenn, Yves, Patrick, Rudy, Guy, Frank, Willem,
Daan, Sem, Luuk, Milan, Thijs, Jesse, Bas, Ruud, Gert, Hendrik, Joost, Mathias,
Michiel, Gilles, Simon, Lucas, Vincent, Olivier, Karel, Jef, Jozef, Rik, Ben, Toon,
Lieven, Raf, Stefaan, Gunther, Dimitri, Kurt, Wannes, Emiel, An, Ann, Els, Sofie,
Lotte, Eva, Katrien, Inge, Veerle, Griet, Lieve, Hilde, Marleen, Nathalie, Sarah,
Laura, Julie, Charlotte, Hanne, Lies, Leen, Sara, Ellen, Evelien, Tine, Nele, Ilse,
Kim, Caroline, Isabelle, Martine, Anja, Karin, Petra, Sanne, Femke, Anouk, Lisa,
Emma, Fleur, Marieke, Annelies, Joke, Liesbeth, Jolien, Elke, Kathleen, Sabine,
Astrid, Silke, Fien, Mieke, Ine, Lien, Amber, Britt, Iris, Roos, Mirjam, Ingrid,
Anke, Marloes, Esther, Eline, Margot, Zoë, Chloé, Inès, Noémie, Renée, Hélène
"""
)

LAST_NAMES_BE = _split(
    """
Peeters, Janssens, Maes, Jacobs, Mertens, Willems, Claes, Goossens, Wouters, De
Smet, Dubois, Hermans, Aerts, Michiels, Pauwels, Vermeulen, Van Damme, De Clercq,
Lambrechts, Hendrickx, Van den Broeck, De Vos, Smets, Verstraete, Desmet, Martens,
Cools, Stevens, Verhoeven, Coppens, Van de Velde, Vandenberghe, Van Acker, Bogaert,
Verbruggen, De Backer, Wuyts, Segers, Van Hoof, Thys, Mahieu, De Meyer, Claeys,
Verheyen, Nys, Bosmans, Geerts, Schepers, Deprez, Lenaerts, Van Dyck, De Wilde,
Vanhoutte, Vercammen, Van Hecke, De Groote, Baert, Verschueren, Moens, Van Gestel,
Celis, Engelen, Luyten, Timmermans, Van Loon, Vandeputte, Boone, Gielen, Dewulf, De
Pauw, Verlinden, Beeckman, Callens, Rombouts, Huybrechts, Vervoort, Somers, Cuypers,
Coene, Dierickx, D'Hondt, Verbeke, Ceulemans, Vanderstraeten, Van Rompaey, Dhaene,
Roels, Bauwens, Vermeersch, Lemmens, Van Laere, Dupont, Lefèvre, Van Belle,
Demeulemeester, Vandewalle, Van Hove, Ghysels, Braeckman, Decock, Vanneste, Seynaeve
"""
)

LAST_NAMES_NL = _split(
    """
de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Visser, Smit, Meijer, de
Boer, Mulder, de Groot, Bos, Vos, Hendriks, van Leeuwen, Dekker, Brouwer, de Wit,
Dijkstra, Smits, de Graaf, van der Meer, van der Linden, Kok, de Haan, van den
Heuvel, van der Veen, van den Broek, de Bruijn, van der Heijden, Schouten, van Beek,
van Vliet, van de Ven, Hoekstra, Maas, Koster, van Dam, van der Wal, Prins, Blom,
Huisman, de Lange, Kuipers, van Wijk, Postma, Kramer, van Doorn, Groen, Gerritsen,
Vink, Jonker, van Rijn, Evers, Sanders, Kuijpers, Bosch, Boersma, Verbeek, van Loon,
Kroon, Hofman, Willemsen
"""
)

JOB_TITLES = [
    *_split(
        """
Zaakvoerder, Aankoper, Technisch directeur, Onderhoudsverantwoordelijke,
Productiemanager, Facility manager, CEO, Operations manager, Preventieadviseur,
Financieel directeur, Plant manager, Projectleider, Hoofd technische dienst,
Inkoper, Directeur, Hoofd onderhoud, Energiecoördinator, Logistiek manager,
Office manager
"""
    ),
    "",  # often nobody asks
]


# --- places and telephone zones ----------------------------------------------------


@dataclass(frozen=True)
class City:
    name: str
    country: str
    zone: str  # trunk prefix without the leading 0: "9" (Gent), "16" (Leuven), ...
    team: str  # the sales team that covers the region


def _cities(text: str) -> list[City]:
    teams = {"N": "Team Noord", "Z": "Team Zuid"}
    rows = [row.split(":") for row in _split(text)]
    return [
        City(name, country, zone, teams[team]) for name, country, zone, team in rows
    ]


# name:country:zone:team (N = Team Noord: Antwerp, Limburg, the Netherlands; Z = Zuid)
CITIES = _cities(
    """
Gent:BE:9:Z, Antwerpen:BE:3:N, Brussel:BE:2:Z, Leuven:BE:16:Z, Brugge:BE:50:Z,
Kortrijk:BE:56:Z, Hasselt:BE:11:N, Mechelen:BE:15:N, Aalst:BE:53:Z,
Sint-Niklaas:BE:3:N, Roeselare:BE:51:Z, Genk:BE:89:N, Oostende:BE:59:Z,
Turnhout:BE:14:N, Lokeren:BE:9:Z, Waregem:BE:56:Z, Geel:BE:14:N, Herentals:BE:14:N,
Lier:BE:3:N, Dendermonde:BE:52:Z, Oudenaarde:BE:55:Z, Ieper:BE:57:Z, Tienen:BE:16:Z,
Vilvoorde:BE:2:Z, Beveren:BE:3:N, Tielt:BE:51:Z, Izegem:BE:51:Z, Eeklo:BE:9:Z,
Deinze:BE:9:Z, Wetteren:BE:9:Z, Menen:BE:56:Z, Harelbeke:BE:56:Z, Zele:BE:52:Z,
Ninove:BE:54:Z, Sint-Truiden:BE:11:N, Lommel:BE:11:N, Maasmechelen:BE:89:N,
Mol:BE:14:N, Heist-op-den-Berg:BE:15:N, Boom:BE:3:N, Puurs:BE:3:N,
Zottegem:BE:9:Z, Diksmuide:BE:51:Z, Lochristi:BE:9:Z, Eindhoven:NL:40:N,
Breda:NL:76:N, Tilburg:NL:13:N, 's-Hertogenbosch:NL:73:N, Rotterdam:NL:10:N,
Utrecht:NL:30:N, Nijmegen:NL:24:N, Maastricht:NL:43:N, Venlo:NL:77:N,
Roosendaal:NL:165:N, Bergen op Zoom:NL:164:N, Goes:NL:113:N, Helmond:NL:492:N,
Oss:NL:412:N, Zwolle:NL:38:N, Dordrecht:NL:78:N, Terneuzen:NL:115:N, Weert:NL:495:N
"""
)
CITY_BY_NAME = {c.name: c for c in CITIES}

# industry: words that companies in it put in their name
_SECTORS = _lines(
    """
Voeding & dranken: Voeding, Bakkerij, Zuivel, Vleeswaren, Brouwerij, Chocolaterie, Foods
Metaalverwerking: Metaalbouw, Staalbouw, Metaal, Plaatbewerking, Lasindustrie
Machinebouw: Machinebouw, Machinefabriek, Technics, Engineering, Hydrauliek, Automation
Transport & logistiek: Transport, Logistics, Logistiek, Distributie, Koeltransport
Kunststofverwerking: Kunststoffen, Plastics, Polymers, Spuitgieterij
Bouw: Bouw, Aannemingen, Bouwbedrijf, Dakwerken, Renovatie
Installatietechniek: Installatietechniek, Koeltechniek, Elektro, Klimaattechniek
Chemie & coatings: Coatings, Chemie, Lakken, Chemicals
Land- & tuinbouw: Agro, Tuinbouw, Fruitbedrijf, Kwekerij, Veevoeders
Hout & meubelen: Houtbewerking, Schrijnwerkerij, Meubelen, Interieur
Verpakking: Verpakkingen, Packaging, Kartonnage
Textiel: Textiel, Weverij, Ververij
Farma: Pharma, Lab, Farma Solutions
Zorg: Woonzorgcentrum, Zorggroep
Afval & recycling: Recycling, Afvalverwerking, Containers
Grafische sector: Drukkerij, Printing, Grafimedia
Automotive: Autobedrijf, Carrosserie, Truckservice
Onderwijs: Scholengroep, Campus
Horeca: Hotelgroep, Catering, Traiteur
Glas & bouwmaterialen: Glas, Betoncentrale, Bouwmaterialen, Natuursteen
"""
)
SECTOR_WORDS = {
    industry: _split(words)
    for industry, words in (line.split(": ", 1) for line in _SECTORS)
}
INDUSTRIES = list(SECTOR_WORDS)

FREE_MAIL = {
    "BE": ["gmail.com", "telenet.be", "skynet.be", "hotmail.com", "outlook.com"],
    "NL": ["gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.com", "outlook.com"],
}
BE_MOBILE_PREFIXES = _split(
    """
470, 471, 472, 473, 475, 476, 477, 478, 479, 484, 485, 486, 487, 488, 494, 495,
496, 497, 498, 499
"""
)


def pick_city(rng: random.Random, country: str | None = None) -> City:
    options = [c for c in CITIES if country is None or c.country == country]
    return rng.choice(options)


def person_name(rng: random.Random, country: str = "BE") -> tuple[str, str]:
    """A (first, last) name; Dutch surnames in the Netherlands, mostly Flemish ones here."""
    first = rng.choice(FIRST_NAMES)
    if country == "NL" or rng.random() < 0.08:
        return first, rng.choice(LAST_NAMES_NL)
    return first, rng.choice(LAST_NAMES_BE)


def ascii_word(text: str) -> str:
    """'Van den Broeck' -> 'vandenbroeck', 'Zoë' -> 'zoe' (for e-mail addresses)."""
    return name_key(text).replace(" ", "")


def email_address(first: str, last: str, domain: str, style: int = 0) -> str:
    f, last_part = ascii_word(first), ascii_word(last)
    local = [f"{f}.{last_part}", f"{f[:1]}{last_part}", f, f"{f}{last_part[:1]}"][
        style % 4
    ]
    return f"{local}@{domain}"


def company_domain(name: str, country: str) -> str:
    """'Metaalbouw Verstraete BV' -> 'metaalbouw-verstraete.be'."""
    legal = {"bv", "nv", "b", "v", "vof", "o", "f", "vzw", "commv", "n"}
    words = [w for w in name_key(name).split(" ") if w and w not in legal]
    return "-".join(words[:3]) + (".nl" if country == "NL" else ".be")


def company_name(rng: random.Random, industry: str, country: str, city: City) -> str:
    """A plausible company name for the industry, with a legal form."""
    surnames = LAST_NAMES_NL if country == "NL" else LAST_NAMES_BE
    word = rng.choice(SECTOR_WORDS[industry])
    surname = rng.choice(surnames)
    surname = surname[:1].upper() + surname[1:]
    pattern = rng.random()
    if pattern < 0.45:
        base = f"{word} {surname}"
    elif pattern < 0.75:
        base = f"{surname} {word}"
    elif pattern < 0.88:
        partner = rng.choice(surnames)
        base = f"{surname} & {partner[:1].upper()}{partner[1:]}"
    else:
        base = f"{word} {city.name}"
    if country == "NL":
        legal = rng.choice(["B.V.", "BV", "B.V.", "V.O.F."])
    elif industry in ("Zorg", "Onderwijs"):
        legal = "vzw"
    else:
        legal = rng.choice(["NV", "BV", "BV", "BV", "CommV"])
    return f"{base} {legal}"


def company_size(rng: random.Random) -> int:
    """Employees: mostly small, a long tail of large sites (log-normal-ish)."""
    return max(2, min(5000, int(rng.lognormvariate(3.6, 1.0))))


def vat_number(rng: random.Random, country: str) -> str:
    """A VAT number with a valid Belgian check (97 - n mod 97) or the Dutch shape."""
    if country == "NL":
        return f"NL{rng.randrange(10**8, 10**9)}B01"
    base = rng.randrange(2_000_000, 9_999_999)  # 0 + 7 digits -> 8-digit base
    check = 97 - (base % 97)
    return f"BE0{base:07d}{check:02d}"


# --- telephone numbers -----------------------------------------------------------


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randint(2, 9)) + "".join(
        str(rng.randint(0, 9)) for _ in range(count - 1)
    )


def _groups(text: str, sizes: list[int]) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(text[i : i + size])
        i += size
    if i < len(text):
        out.append(text[i:])
    return " ".join(p for p in out if p)


def phone_number(rng: random.Random, city: City, *, mobile: bool) -> str:
    """A number as people write it: '09 225 14 87', '0475 12 34 56', '040-2345678'."""
    if city.country == "NL":
        if mobile:
            number = "6" + _digits(rng, 8)
            return rng.choice([f"06-{number[1:]}", f"+31 6 {number[1:5]} {number[5:]}"])
        rest = _digits(rng, 9 - len(city.zone))
        return rng.choice([f"0{city.zone}-{rest}", f"+31 {city.zone} {rest}"])
    if mobile:
        number = rng.choice(BE_MOBILE_PREFIXES) + _digits(rng, 6)
        if rng.random() < 0.2:
            return f"+32 {number[:3]} {_groups(number[3:], [2, 2, 2])}"
        return f"0{number[:3]} {_groups(number[3:], [2, 2, 2])}"
    rest = _digits(rng, 8 - len(city.zone))
    sizes = [3, 2, 2] if len(city.zone) == 1 else [2, 2, 2]
    if rng.random() < 0.15:
        return f"+32 {city.zone} {_groups(rest, sizes)}"
    return f"0{city.zone} {_groups(rest, sizes)}"


# --- what people ask ---------------------------------------------------------------

PRODUCTS = _split(
    """
schroefcompressor 37 kW, persluchtdroger, stikstofgenerator, vacuümpomp,
transportband, elektrische heftruck, hoogwerker, industriële koelinstallatie,
warmtepomp voor de productiehal, luchtbehandelingskast, stofafzuiging,
lasrookafzuiging, palletwikkelaar, zonnepanelen op het bedrijfsdak, laadpalen voor
bedrijfswagens, stoomketel, afvalwaterzuivering, hydraulische pers, robotlascel,
koelcel, persluchtnet in aluminium, frequentiegestuurde compressor,
warmteterugwinning op compressoren, industriële deuren, sectionaalpoort, ventilatie
voor de werkplaats
"""
)

QUESTIONS = _lines(
    """
Offerte gevraagd: {product}.
Prijsaanvraag {product}, levering {when}.
Vraagt info over een onderhoudscontract ({product}).
Wil de bestaande installatie vervangen ({product}); vraagt bezoek van een technieker.
Interesse in huur of leasing: {product}.
Storing aan de installatie; vraagt ook een prijs voor nieuw ({product}).
Uitbreiding van de productielijn: zoekt {product}.
Vraagt een energie-audit van het persluchtnet en advies ({product}).
Zag ons op de beurs en wil een demo ({product}).
Nieuwbouw {when}: vraagt budgetprijs voor {product} en installatie.
Aanbesteding: vraagt ons om in te schrijven voor {product}.
Vraagt of we installaties van een concurrent onderhouden ({product}).
"""
)
WHEN = _split(
    """
dit kwartaal, voor de zomer, volgend jaar, na het bouwverlof, zo snel mogelijk, in
het najaar, begin volgend jaar
"""
)
DETAILS = [
    *_lines(
        """
Budget ongeveer € {budget}k.
Beslissing {when}.
Wil graag teruggebeld worden.
Heeft al een offerte van een concurrent.
Contact via de website.
Doorverwezen door een collega.
Graag een afspraak ter plaatse.
"""
    ),
    "",
]

ARCHIVE_REASONS = _lines(
    """
Geen reëel koopproject: enkel prijsvergelijking.
Spam via het webformulier.
Dubbele aanvraag, zelfde vraag al geregistreerd.
Student vraagt info voor een eindwerk.
Buiten ons werkgebied.
Concurrent die prijzen opvraagt.
Particulier, geen B2B-klant.
Leverancier die zijn eigen diensten aanbiedt.
Klant heeft intussen elders besteld.
"""
)
NURTURE_REASONS = [
    *_lines(
        """
Project pas volgend jaar.
Budget nog niet vrijgemaakt.
Oriënteert zich nog; stuurt geen offerte-aanvraag.
Wil eerst de workshop volgen.
"""
    ),
    "",
]
REFERRERS = _split(
    """
Installateur Vermeulen, Architectenbureau De Vos, Brouwerij Van Damme, Studiebureau
Stevens, Onze technieker ter plaatse, Voka netwerkavond, Boekhouder van de klant,
Leverancier Atlas, Unizo-infosessie
"""
)
MARKETING_LISTS = ["Nieuwsbrief", "Workshop uitnodiging", "Nieuwjaarskaart"]
WEB_PAGES = _split(
    """
/nl/producten/compressoren, /nl/producten/persluchtdrogers, /nl/onderhoud,
/nl/contact, /nl/cases/brouwerij, /nl/energie-audit, /nl/vacatures,
/nl/producten/koeltechniek, /nl/producten/heftrucks, /nl/nieuws/workshop,
/en/products/compressors, /nl/offerte-aanvragen
"""
)
ORDER_ITEMS = _lines(
    """
Jaarlijks onderhoud compressoren (prijsafspraak {year})
Vervangfilters en olie persluchtinstallatie
Reserveonderdelen transportband
Herkeuring heftrucks
Bijkomende koelcel volgens bestaande prijsafspraak
Vervanging condenspotten
Onderhoudscontract verlengd ({year})
"""
)


def question(rng: random.Random) -> str:
    """A one- or two-line summary of the question, as inside sales would note it."""
    first = rng.choice(QUESTIONS).format(
        product=rng.choice(PRODUCTS), when=rng.choice(WHEN)
    )
    detail = rng.choice(DETAILS).format(
        budget=rng.choice([5, 8, 12, 15, 25, 40, 60, 90, 150]), when=rng.choice(WHEN)
    )
    return f"{first}\n{detail}" if detail else first


# --- working time and a frozen clock ---------------------------------------------


def _bounds(day: date, tz) -> tuple[datetime, datetime]:
    return (
        timezone.make_aware(datetime.combine(day, WORKDAY_START), tz),
        timezone.make_aware(datetime.combine(day, WORKDAY_END), tz),
    )


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The instant ``hours`` of working time (Mon–Fri 08:30–17:30) after ``start``."""
    tz = timezone.get_current_timezone()
    current = timezone.localtime(start, tz)
    remaining = timedelta(hours=hours)
    while True:
        day = current.date()
        if day.weekday() in WORKDAYS:
            open_at, close_at = _bounds(day, tz)
            current = max(current, open_at)
            if current < close_at:
                if remaining <= close_at - current:
                    return current + remaining
                remaining -= close_at - current
        current = _bounds(day + timedelta(days=1), tz)[0]


def subtract_working_hours(end: datetime, hours: float) -> datetime:
    """The instant ``hours`` of working time before ``end``."""
    tz = timezone.get_current_timezone()
    current = timezone.localtime(end, tz)
    remaining = timedelta(hours=hours)
    while True:
        day = current.date()
        if day.weekday() in WORKDAYS:
            open_at, close_at = _bounds(day, tz)
            current = min(current, close_at)
            if current > open_at:
                if remaining <= current - open_at:
                    return current - remaining
                remaining -= current - open_at
        current = _bounds(day - timedelta(days=1), tz)[1]


def office_time(rng: random.Random, day: date, *, web: bool = False) -> datetime:
    """A moment on ``day`` when people call or mail (web forms also come in at night)."""
    tz = timezone.get_current_timezone()
    if web and rng.random() < 0.35:
        seconds = rng.randrange(0, 24 * 3600)
    else:
        seconds = int(rng.triangular(8 * 3600, 17.75 * 3600, 10.5 * 3600))
    naive = datetime.combine(day, datetime.min.time()) + timedelta(seconds=seconds)
    return timezone.make_aware(naive, tz)


@contextmanager
def frozen_time(at: datetime) -> Iterator[None]:
    """Make ``timezone.now()`` return ``at``, so actions stamp a past moment.

    Only for writing demo history: every action reads the clock through
    ``django.utils.timezone.now``, so transition rows, audit events, closed_at and
    auto_now fields all get the historic time while the real actions run.
    """
    with mock.patch("django.utils.timezone.now", new=lambda: at):
        yield
