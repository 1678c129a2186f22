"""Word lists the geoparser's rules rest on: what is not a place, and the words that point at one.

All entries are in `normalize()` form (lower case, no accents or punctuation), so lookups are one set test.
"""

from __future__ import annotations

from dashboard.gazetteer import normalize


def _words(text: str) -> frozenset[str]:
    return frozenset(normalize(w) for w in text.split())


# Adjectives and nouns of nationality: never places themselves, but they tell which countries a text is about.
DEMONYMS: dict[str, str] = {normalize(k): v for k, v in {
    "Ukrainian": "UA", "Ukrainians": "UA", "Russian": "RU", "Russians": "RU", "Belarusian": "BY",
    "Belarusians": "BY", "Belorussian": "BY", "Byelorussian": "BY", "Belarussian": "BY", "Polish": "PL",
    "Pole": "PL", "Poles": "PL", "Lithuanian": "LT", "Lithuanians": "LT", "Latvian": "LV", "Latvians": "LV",
    "Estonian": "EE", "Estonians": "EE", "Moldovan": "MD", "Moldovans": "MD", "Romanian": "RO",
    "Romanians": "RO", "Slovak": "SK", "Slovakian": "SK", "Hungarian": "HU", "Hungarians": "HU",
    "Finnish": "FI", "Finn": "FI", "Finns": "FI", "Swedish": "SE", "Swede": "SE", "Swedes": "SE",
    "Norwegian": "NO", "Danish": "DK", "German": "DE", "Germans": "DE", "French": "FR", "British": "GB",
    "English": "GB", "American": "US", "Americans": "US", "Canadian": "CA", "Italian": "IT", "Spanish": "ES",
    "Dutch": "NL", "Belgian": "BE", "Czech": "CZ", "Bulgarian": "BG", "Georgian": "GE", "Georgians": "GE",
    "Armenian": "AM", "Azerbaijani": "AZ", "Kazakh": "KZ", "Turkish": "TR", "Iranian": "IR",
    "Chinese": "CN", "Japanese": "JP", "Korean": "KR", "Israeli": "IL", "Syrian": "SY", "Austrian": "AT",
    "Swiss": "CH", "Greek": "GR", "Serbian": "RS", "Croatian": "HR", "Slovenian": "SI", "Irish": "IE",
    "Portuguese": "PT", "Crimean": "UA", "Chechen": "RU", "Soviet": "", "European": "", "Western": "",
    "Eastern": "", "Baltic": "", "Nordic": "", "Slavic": "", "Transnistrian": "MD", "Kyivan": "UA",
}.items()}

# Supranational bodies, alliances and acronyms that look like names (EU, NATO) or match a town (Nato, Eu).
BODIES = _words("""EU NATO UN G7 G20 OSCE CSTO IAEA UNESCO UNICEF WHO ICC ICJ IMF OPEC ASEAN BRICS CIS
    SBU GUR FSB KGB GRU SVR MoD ISW TASS RIA BelTA Ukrinform Interfax Reuters AFP AP BBC CNN DPR LPR
    Kremlin Pentagon Rada Duma Seimas Sejm Bundestag Bundeswehr Wagner Maxar Planet Belaruskali Gazprom
    Rosneft Rosatom Ukrenergo Naftogaz Ukrzaliznytsia Hajun""")

# Heads of organisation names: a capitalised run containing one (plus any "of the X" after it) is an
# organisation, and the place names inside it are not mentions: "Radio Lublin", "Armed Forces of Ukraine".
ORG_HEADS = _words("""Ministry Ministries Forces Force Army Navy Fleet Guard Guards Service Services Command
    Commands Staff Headquarters Council Committee Commission Agency Agencies Office Directorate Department
    Administration Authority Authorities Government Parliament Assembly Radio Television TV News Post
    Times Independent Pravda Gazeta Herald Journal Tribune Telegraph Guardian Review Daily Weekly Railways
    Railway Airlines Airways Bank Company Corporation Group Institute University Academy School Hospital
    Centre Center Foundation Party Union Alliance Front Movement Brigade Battalion Regiment Division Corps
    Unit Units Operations Operational Police Militia Prosecutor Court Church Patriarchate Embassy Consulate
    Mission Association Federation Project Network Channel Studio Club Team Museum Theatre Theater Plant
    Factory Works Port Airport Station Exchange Fund Programme Program Initiative""") - {normalize("Federation")}

# A name right before one of these names a feature or a facility, not the town it is named after:
# "the Kakhovka dam", "the Saky airbase", "the Dnipro river", "the Black Sea".
FEATURE_AFTER = _words("""sea river rivers lake lakes gulf bay strait straits island islands peninsula mountains
    mountain hills dam reservoir airport airbase airfield base plant bridge gap canal forest park
    spit lagoon valley delta highway motorway road railway corridor""")
FEATURE_AFTER_PAIRS = frozenset({("air", "base"), ("nuclear", "plant"), ("power", "plant"),
                                 ("power", "station"), ("nuclear", "power"), ("training", "ground"),
                                 ("hydroelectric", "plant"), ("thermal", "power"), ("military", "airfield")})
# ... and these before a name: "Sea of Azov", "Lake Peipus", "the river Desna", "Mount Elbrus".
FEATURE_BEFORE = _words("""Sea Gulf Bay Lake Mount Isle Island River Cape Strait""")

# Titles before a person's name: "President Joe Biden", "Governor Oleh Syniehubov".
TITLES = _words("""President Presidents Premier Minister Ministers Governor Governors Mayor Mayors General Gen
    Colonel Col Lieutenant Lt Major Maj Captain Capt Sergeant Sgt Commander Admiral Adm Marshal Chief
    Spokesman Spokeswoman Spokesperson Secretary Ambassador Envoy Mr Mrs Ms Dr Sir Dame Pope King Queen
    Prince Princess Patriarch Metropolitan Senator Sen Representative Rep Chancellor Chairman Chairwoman
    Speaker Deputy Director Prosecutor Judge Justice Commissioner Lord Lady Saint""") - {normalize("Saint")}

# Given names common in this theatre's news: a run that starts with one is a person ("Vitaliy Kim").
GIVEN_NAMES = _words("""Vladimir Volodymyr Alexander Aleksandr Alexandr Aleksander Oleksandr Olexandr Alyaksandr
    Dmitry Dmitri Dmytro Sergei Sergey Serhiy Serhii Andrei Andrey Andriy Andrii Andrzej Mykhailo Mikhail
    Mikhailo Oleksiy Oleksii Alexei Alexey Aleksei Yuriy Yurii Yuri Vitaliy Vitalii Vitaly Viktor Victor
    Ivan Petro Pyotr Pavlo Pavel Igor Ihor Oleg Oleh Anatoly Anatoliy Gennady Valery Valeriy Valerii
    Nikolai Nikolay Mykola Roman Maxim Maksim Maksym Denys Denis Kyrylo Kirill Ruslan Ramzan Yevgeny
    Yevgeniy Yevhen Yevhenii Evgeny Boris Antony Anthony Joe Joseph Jens Josep Ursula Olaf Emmanuel Mateusz
    Gitanas Ingrida Kaja Krisjanis Edgars Egils Svetlana Sviatlana Maria Iryna Olena Anna Natalia Tatiana
    Tatyana Anton Vyacheslav Viacheslav Vadym Vadim Stanislav Konstantin Kostiantyn Yulia Olga Elena Yelena
    Ekaterina Kateryna Valentina Marina Maryna Ludmila Lyudmila Nadezhda Rustem Arseniy Arseny Petr Leonid
    Taras Bohdan Bogdan Vasyl Vasily Vasili Hennadiy Herman Mark Markus Rishi Boris Liz Keir Dmitriy
    Yevgeny Rafael Antonio Kamala Lloyd Jake Jake Sauli Alar Ursula Charles Michel Josep Antonio Volker
    Andrius Gabrielius Arvydas Linas Kestutis Artis Karins Evika Alar Kersti Jüri Maia Igor Recep Tayyip
    Xi Narendra Ali Ebrahim Hossein Mohammad Kim Ales Pavel Siarhei Maryia Viasna Stepan Dzmitry Ihar
    Uladzimir Volha Tsikhanouski Valiantsin Raman Aliaksandr Aliaksei Viktar Yury Mikalai""") - {normalize("Kim")}

# Surnames of this theatre's news that the rules above may not catch when used alone ("Putin said").
SURNAMES = _words("""Putin Lukashenko Lukashenka Zelensky Zelenskyy Zelenskiy Shoigu Lavrov Peskov Medvedev
    Gerasimov Prigozhin Kadyrov Patrushev Naryshkin Bortnikov Surovikin Kuleba Reznikov Umerov Zaluzhny
    Zaluzhnyi Syrskyi Budanov Podolyak Podolyak Arestovych Klitschko Yermak Shmyhal Stefanchuk Danilov
    Biden Blinken Austin Sullivan Kirby Milley Harris Trump Scholz Macron Sunak Johnson Truss Starmer
    Meloni Draghi Erdogan Stoltenberg Rutte Borrell Michel Leyen Guterres Grossi Duda Morawiecki Tusk
    Blaszczak Nauseda Landsbergis Simonyte Karins Rinkevics Kallas Karis Sandu Gavrilita Orban Niinisto
    Marin Kristersson Tsikhanouskaya Tikhanovskaya Babariko Kolesnikova Makei Khrenin Volfovich Golovchenko
    Alikhanov Gladkov Starovoit Bogomaz Chaus Syniehubov Haidai Kim Kozytskyi Kyrylenko Zhyvytskyy Fedorov
    Vilkul Lysak Prokudin Kuleba Saldo Balitsky Pushilin Pasechnik Aksyonov Razvozhayev Kiriyenko Nebenzia
    Zakharova Shoygu Kadyrov Lapin Mizintsev Konashenkov Skabeeva Solovyov Simonyan Kovalenko Ihnat
    Yusov Shevchenko Bondarenko Kravchuk Yanukovych Poroshenko Tymoshenko Kuchma Yushchenko Navalny
    Kasparov Gorbachev Yeltsin Stalin Lenin Hitler Bandera Khmelnytsky""")

# English words that GeoNames alternate names turn into towns ("The" → Teresina, "Police", "June").
# Capitalised at the start of a sentence or in a heading they are still words, not places.
COMMON_WORDS = _words("""a an the this that these those there here it its it's they them their he him his she
    her we us our you your i me my who whom whose which what when where why how all any both each every few
    many more most much other others some such no nor not only own same so than too very can will just
    should now also still even yet again ever never always already soon later earlier once twice then
    thus however but and or if because as until while of at by for with about against between into
    through during before after above below to from up down in out on off over under further since
    near around across along behind beyond within without upon toward towards among amid despite via
    per be is am are was were been being have has had having do does did doing would could might must
    shall may one two three four five six seven eight nine ten first second third last next new old
    former late early major minor great big small large long short high low top north south east west
    northern southern eastern western central northeast northwest southeast southwest upper lower
    left right front back home world war peace army forces troops police fire strike strikes attack
    attacks missile missiles rocket rockets drone drones shelling explosions explosion blast blasts
    air sea land border borders city cities town towns village villages region regions district oblast
    capital state states country countries nation nations government people officials official residents
    civilians soldiers children women men news report reports reported says said according sources source
    video photos images satellite local regional national international foreign defence defense ministry
    interior security intelligence emergency emergencies service services energy power water gas oil grain
    food aid help support plan deal talks talk meeting summit visit visits statement statements warning
    warnings threat threats head chief spokesman spokeswoman president prime minister governor mayor
    general commander leader leaders opposition protest protests protesters election elections vote votes
    sanctions sanction bank banks market markets trade rail railway railways road roads bridge bridges port
    ports airport airports station stations plant plants base bases camp camps prison court courts church
    school schools hospital hospitals university house houses building buildings street streets square
    park centre center district districts area areas zone zones line lines front frontline bank island
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december jan feb mar apr jun jul aug sep sept oct nov dec
    today yesterday tomorrow tonight morning afternoon evening night week weeks month months year years
    day days hour hours minute minutes time times date anniversary holiday christmas easter new year
    mr mrs ms dr st sir madam lord lady god allah jesus christ saint holy
    update updates live breaking exclusive analysis opinion editorial comment feature interview photo
    read more see also related share follow subscribe click here menu search home contact
    victory freedom liberty justice hope unity independence democracy republic kingdom empire federation
    union alliance coalition party movement front council committee assembly parliament congress
    senate house office agency commission authority administration directorate command headquarters
    operation operations exercise exercises drill drills mission missions campaign offensive counteroffensive
    invasion occupation liberation annexation referendum mobilisation mobilization evacuation evacuations
    ceasefire truce corridor corridors convoy convoys column columns brigade battalion regiment division
    unit units fleet navy marines paratroopers infantry artillery tanks tank armour armor aircraft jets
    bombers fighters helicopters ships ship submarine submarines warship warships vessels vessel boats
    debris fragments wreckage damage casualties dead killed wounded injured missing hostages prisoners
    refugees migrants asylum crossing crossings checkpoint checkpoints customs transit exports imports
    shipments cargo trains train trucks buses cars flights flight airspace skies sky
    russian ukrainian belarusian polish allied western eastern european soviet nuclear tactical strategic
    ballistic cruise hypersonic supersonic kamikaze patriot javelin leopard challenger abrams bradley
    marder stinger storm shadow himars tochka kalibr kinzhal iskander grad smerch uragan tornado buk tor
    pantsir shahed geran lancet bayraktar neptune harpoon gepard iris nasams atacms mlrs
    black red white green blue yellow orange golden silver dark light bright free open closed
    good bad best worst better worse true false real full empty whole half part parts rest side sides
    according amid although though whereas whether while unless except including including following
    meanwhile moreover nevertheless nonetheless otherwise therefore hence besides instead indeed
    certainly clearly probably perhaps maybe possibly likely unlikely reportedly allegedly apparently
    earlier later afterwards overnight yesterday speaking asked told added noted stressed claimed
    denied accused warned announced confirmed declared insisted explained described called urged
    wednesday's thursday's friday's saturday's sunday's monday's tuesday's
    shelling hitting struck hit fired launched shot downed intercepted destroyed damaged killed
    explosions sirens alert alarm alarms raid raids
    dozens hundreds thousands millions tens scores several
    about above across after against along among around before behind below beneath beside between
    beyond despite down during except inside into like near off onto outside over past regarding
    round since through throughout till toward under underneath unlike until unto upon with within
    how however whatever whenever wherever whoever whichever
    mother father son daughter brother sister wife husband family friends friend
    man woman boy girl baby child person persons human humans life lives death deaths body bodies
    heart mind soul spirit eye eyes hand hands foot feet face head heads arm arms leg legs
    story stories history future past present moment moments period era age ages
    fact facts case cases point points issue issues question questions problem problems
    reason reasons result results effect effects cause causes purpose goal goals aim aims
    level levels rate rates number numbers amount amounts total sum price prices cost costs
    value values range ranges distance distances size speed weight height depth
    kilometres kilometers km miles metres meters
    economy economic political politics military civil civilian public private social
    global local national regional federal provincial municipal
    minister's president's governor's
    allied resolve zapad union shield""")

MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
WEEKDAYS: dict[str, int] = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
                            "saturday": 5, "sunday": 6}

# Words before a name that say it is a settlement: "the village of Desna", "the town of Bucha".
SETTLEMENT_WORDS = _words("village villages town towns city cities settlement hamlet township port resort")
VILLAGE_WORDS = _words("village villages settlement hamlet")

# Region keywords after a name ("the Chernihiv region") — singular and plural.
REGION_WORDS = _words("region regions oblast oblasts voblast voblasts province provinces voivodeship "
                      "voivodeships krai governorate governorates")
DISTRICT_WORDS = _words("district districts raion raions rayon rayons county counties municipality")
BORDER_WORDS = _words("border frontier")
BORDER_ORGS = _words("guard guards guardsmen service police agency force forces troops officers officials")

# Country names written as codes that may be places in running text; other ISO codes ("IN", "BY") are words.
COUNTRY_CODES_AS_NAMES = frozenset({"US", "USA", "UK", "UAE"})

# Countries of the theatre: a weak prior for an unknown name when a text gives no other clue.
THEATRE: frozenset[str] = frozenset({"UA", "RU", "BY", "PL", "LT", "LV", "EE", "MD", "RO", "SK", "HU", "FI"})

# After "the" + a single name, these say the name is a river or a region, not a town: "on the Dnipro was",
# "across the Desna near Chernihiv". Towns take no article in English.
AFTER_THE_NOT_TOWN = _words("""was is were are has had have will would could can flows runs rises
    in at near from to into through across between along towards toward by on""")
