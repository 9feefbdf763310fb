"""How the related engine ranks real, paraphrased news, through a real store: other outlets'
coverage of one event above earlier chapters, same-word distractors and the story's own
outlet; figures written differently; words only in excerpts; what its coverage says."""

from __future__ import annotations

from bot.config import RelatedSettings
from bot.domain.related import RelatedService
from storage import Store
from storage.related import CandidateQuery, Search, Weights
from tests.bot.domain.news_store import GUILD, OTHER_GUILD, add, add_filler


async def similar(store: Store, story: str, guild: int = GUILD) -> list[str]:
    """The titles /related story lists for ``story``."""
    _, results = await RelatedService(store).for_story(guild, story, limit=5)
    return [r.article.title for r in results]


async def test_other_outlets_paraphrase_beats_an_earlier_chapter_and_a_same_word_distractor(
    store,
):
    story = await add(
        store,
        "placenta",
        "Microplastics found in every placenta tested",
        "University of Carrow researchers found plastic particles in all 62 placentas they "
        "tested, most of it polyethylene.",
        "2026-08-12T09:00:00Z",
        outlet="sciencedesk",
    )
    await add(
        store,
        "womb",
        "Plastic pollution reaches the womb, researchers warn",
        "Tiny plastic particles turned up in all 62 placentas donated to the University of "
        "Carrow study.",
        "2026-08-12T15:00:00Z",
        outlet="meridian",
    )
    await add(
        store,
        "begins",
        "University of Carrow begins study of microplastics in placentas",
        "Researchers will test placentas donated by expectant mothers for plastic particles.",
        "2026-06-20T09:00:00Z",
        outlet="sciencedesk",
    )
    await add(
        store,
        "nuvo",
        "Digital bank Nuvo reaches 5 million customers",
        "The app-only bank says it found most of its customers through referrals.",
        "2026-08-12T10:00:00Z",
        outlet="financedaily",
    )
    titles = await similar(store, story)
    assert titles[0] == "Plastic pollution reaches the womb, researchers warn"


async def test_a_figure_matches_however_an_outlet_writes_it(store):
    story = await add(
        store,
        "rebate",
        "Heat pump buyers to get $13K rebate from January",
        "Homeowners who replace a gas boiler can claim the grant from the state energy office.",
        "2026-09-01T08:00:00Z",
    )
    await add(
        store,
        "households",
        "Households offered $13,000 to swap gas boilers",
        "The state energy office grant covers most of the cost of a heat pump.",
        "2026-09-01T12:00:00Z",
    )
    await add(
        store,
        "cheaper",
        "Heat pump rebate of $9K for renters announced",
        "Tenants in older flats will be eligible from March, the housing minister said.",
        "2026-09-01T10:00:00Z",
        quality=95,
    )
    titles = await similar(store, story)
    assert titles[0] == "Households offered $13,000 to swap gas boilers"
    query = await RelatedService(store).for_query(GUILD, "$13,000 heat pump rebate")
    assert query[0].article.title == "Heat pump buyers to get $13K rebate from January"


async def test_other_outlets_same_day_coverage_comes_before_the_outlet_s_own_follow_up(store):
    story = await add(
        store,
        "closed",
        "Kessler Street Bridge closed after inspectors find cracks",
        "Brookfield closed the Kessler Street Bridge to all traffic after inspectors found "
        "cracks in two steel girders.",
        "2026-10-05T07:00:00Z",
        outlet="valleypost",
    )
    await add(
        store,
        "months",
        "Kessler Street Bridge to stay closed for months after inspectors find cracks",
        "Repairs to the cracked girders of the Kessler Street Bridge will take until spring, "
        "Brookfield said.",
        "2026-10-07T09:00:00Z",
        outlet="valleypost",
    )
    await add(
        store,
        "shuts",
        "Brookfield shuts key river crossing over safety fears",
        "Inspectors found cracked steel girders on the Kessler Street Bridge, the city said.",
        "2026-10-05T11:00:00Z",
        outlet="brookfieldnow",
    )
    titles = await similar(store, story)
    assert titles[:2] == [
        "Brookfield shuts key river crossing over safety fears",
        "Kessler Street Bridge to stay closed for months after inspectors find cracks",
    ]


async def test_coverage_hours_after_the_story_is_as_close_in_time_as_news_of_minutes_after(store):
    # Outlets cover one event hours apart; within the grace, which hour says nothing. The
    # scale is an hour here so that, without the grace, five hours would cost the coverage
    # nearly all of its time-dependent share.
    story = await add(
        store,
        "cancels",
        "Ferry operator Tidelink cancels winter crossings to Arnholm",
        "Tidelink will run no ferries to Arnholm island from December to March, citing a "
        "shortage of crews.",
        "2026-11-02T09:00:00Z",
        outlet="coastwire",
    )
    await add(
        store,
        "scraps",
        "Tidelink scraps Arnholm winter ferry crossings, islanders furious",
        "Islanders say Tidelink's decision to cancel ferries from December to March over a crew "
        "shortage will cut them off.",
        "2026-11-02T14:00:00Z",
        outlet="islandtimes",
    )
    await add(
        store,
        "budget",
        "Arnholm council approves winter gritting budget",
        "Councillors agreed the roads budget for the island's winter months.",
        "2026-11-02T09:10:00Z",
        outlet="arnholmpost",
    )

    async def titles(grace_hours: float) -> list[str]:
        settings = RelatedSettings().model_copy(
            update={"time_scale_hours": 1, "time_grace_hours": grace_hours}
        )
        _, results = await RelatedService(store, settings).for_story(GUILD, story, limit=5)
        return [r.article.title for r in results]

    coverage = "Tidelink scraps Arnholm winter ferry crossings, islanders furious"
    council = "Arnholm council approves winter gritting budget"
    assert (await titles(6))[:2] == [coverage, council]
    assert (await titles(0))[:2] == [council, coverage]


async def test_stories_that_share_little_with_the_story_are_marked_and_listed_last(store):
    await add_filler(store)
    story = await add(
        store,
        "closed",
        "Harbour Bridge closed after divers find cracked pier",
        "Port Halden shut the Harbour Bridge to all traffic on Tuesday after divers found a "
        "cracked pier under the main span.",
        "2026-10-06T08:00:00Z",
        outlet="haldenpost",
    )
    await add(
        store,
        "shut",
        "Cracked pier forces Port Halden to shut its Harbour Bridge",
        "Engineers will inspect the damaged pier before the span reopens, the harbour "
        "authority said.",
        "2026-10-06T12:00:00Z",
        outlet="coastwire",
    )
    _, results = await RelatedService(store).for_story(GUILD, story, limit=5)
    first, *rest = results
    assert first.article.title == "Cracked pier forces Port Halden to shut its Harbour Bridge"
    assert first.close
    # the filler news shares nothing of the bridge: still listed, after it, as such
    assert rest and not any(r.close for r in rest)
    everything = await RelatedService(
        store, RelatedSettings().model_copy(update={"close_score": 0})
    ).for_story(GUILD, story, limit=5)
    assert all(r.close for r in everything[1])


async def test_a_race_time_finds_the_coverage_that_writes_it_in_hours_and_minutes(store):
    story = await add(
        store,
        "record",
        "Odhiambo breaks the Kestrel Bay course record in 2:04:37",
        "The Kenyan won by almost a minute.",
        "2026-10-11T11:00:00Z",
        outlet="runnersdesk",
    )
    await add(
        store,
        "champion",
        "Champion shaves 40 seconds off a 12-year-old mark",
        "Odhiambo crossed the line in two hours, four minutes and 37 seconds.",
        "2026-10-11T14:00:00Z",
        outlet="coastwire",
    )
    await add(
        store,
        "ferry",
        "Bay ferry timetable changes for winter",
        "Sailings will leave at 2:04 and 4:37 on weekdays.",
        "2026-10-11T12:00:00Z",
        outlet="baynews",
    )
    _, results = await RelatedService(store).for_story(GUILD, story, limit=5)
    assert results[0].article.title == "Champion shaves 40 seconds off a 12-year-old mark"
    assert "2:04:37" in results[0].reason
    found = await RelatedService(store).for_query(GUILD, "2hr 4min 37sec")
    assert {r.article.title for r in found[:2]} == {
        "Odhiambo breaks the Kestrel Bay course record in 2:04:37",
        "Champion shaves 40 seconds off a 12-year-old mark",
    }
    assert all(r.reason == "matches every word" for r in found[:2])


async def test_a_temperature_finds_the_coverage_that_gives_it_in_the_other_scale(store):
    story = await add(
        store,
        "record",
        "Mirowa sets a national heat record of 43.1C",
        "Forecasters said the heat would ease by the weekend.",
        "2026-07-21T15:00:00Z",
        outlet="weatherdesk",
    )
    await add(
        store,
        "scorcher",
        "Thermometers hit 109.6F in the south",
        "The national weather service confirmed the reading on Tuesday night.",
        "2026-07-21T19:00:00Z",
        outlet="dailylantern",
    )
    _, results = await RelatedService(store).for_story(GUILD, story, limit=5)
    assert results[0].article.title == "Thermometers hit 109.6F in the south"
    assert "43.1C" in results[0].reason


async def test_another_outlet_s_paraphrase_beats_the_outlet_s_own_closer_worded_follow_up(store):
    # The follow-up repeats the story's words; the other outlet's report shares fewer of them.
    story = await add(
        store,
        "suspended",
        "Wexmoor harbour ferry suspended after engine room fire",
        "The Wexmoor ferry was taken out of service after a fire broke out in its engine room; "
        "no one was hurt.",
        "2026-11-03T08:00:00Z",
        outlet="coastlinenews",
    )
    await add(
        store,
        "until",
        "Wexmoor harbour ferry to stay suspended after engine room fire",
        "The Wexmoor ferry will stay out of service until the engine room is repaired.",
        "2026-11-03T16:00:00Z",
        outlet="coastlinenews",
    )
    await add(
        store,
        "stranded",
        "Commuters stranded as blaze halts Wexmoor crossing",
        "Passengers were turned away at the quay after a fire on the boat.",
        "2026-11-03T10:00:00Z",
        outlet="dailycurrent",
    )
    assert (await similar(store, story))[0] == "Commuters stranded as blaze halts Wexmoor crossing"


async def test_one_incidental_word_cannot_decide(store):
    story = await add(
        store,
        "debut",
        "Kestrel Pay shares soar 38% in Nasdaq debut",
        "The payments company, which sells invoicing software to plumbers, raised $612 million "
        "in its initial public offering.",
        "2026-10-14T20:00:00Z",
    )
    await add(
        store,
        "moorland",
        "Kestrel numbers soar on moorland after shooting ban",
        "Birdwatchers counted twice as many kestrels as last year.",
        "2026-10-14T18:00:00Z",
    )
    await add(
        store,
        "kpay",
        "KPAY closes up 38 per cent on first day of trading",
        "The invoicing software firm for plumbers raised $612 million in its public offering.",
        "2026-10-15T08:00:00Z",
    )
    assert (await similar(store, story))[0] == "KPAY closes up 38 per cent on first day of trading"


async def test_words_only_in_the_excerpts_find_the_coverage(store):
    story = await add(
        store,
        "slams",
        "Civil liberties group slams police plan for real-time face matching",
        "Open Streets called the Port Caldwell rollout of live facial recognition vans 'mass "
        "surveillance' and may go to court.",
        "2026-08-18T17:45:00Z",
    )
    await add(
        store,
        "seaside",
        "LFR comes to the seaside: what the new camera vans can and can't do",
        "Live facial recognition vans will scan crowds in Port Caldwell at busy times, police say.",
        "2026-08-19T10:00:00Z",
    )
    await add(
        store,
        "captions",
        "Video app adds real-time captions for group calls",
        "The feature works in twelve languages and runs on the phone.",
        "2026-08-18T16:00:00Z",
    )
    assert (await similar(store, story))[0].startswith("LFR comes to the seaside")


async def test_what_the_story_s_coverage_says_finds_more_of_its_event(store):
    # The phone maker's coverage is linked from the story's file; the supplier piece shares
    # no word with the story, only with that coverage.
    listed = "https://techwire.example/pulls"
    await add(
        store,
        "pulls",
        "Phone maker pulls flagship over overheating batteries",
        "Arvo said cells from one supplier could overheat and catch fire while charging.",
        "2026-09-14T12:00:00Z",
        outlet="techwire",
    )
    story = await add(
        store,
        "recall",
        "Arvo recalls 300,000 Nova 7 handsets",
        "Owners should stop using the Nova 7 and ask for a refund or a replacement.",
        "2026-09-14T09:00:00Z",
        related=(listed,),
    )
    await add(
        store,
        "supplier",
        "Inside the battery crisis: how one supplier's cells caught fire",
        "Overheating cells made by a single supplier were behind the fires while charging.",
        "2026-09-15T09:00:00Z",
    )
    titles = await similar(store, story)
    assert titles[0] == "Phone maker pulls flagship over overheating batteries"  # curated
    assert titles[1] == "Inside the battery crisis: how one supplier's cells caught fire"


async def test_what_members_do_not_see_is_never_offered(store):
    story = await add(
        store,
        "measles",
        "Measles outbreak in Dunmore County reaches 48 cases",
        "Unvaccinated pupils have been sent home from three schools, health officials said.",
        "2026-09-20T09:00:00Z",
    )
    pending = await add(
        store,
        "pending",
        "Dunmore County measles cases reach 48 as schools send pupils home",
        "Health officials traced the Dunmore outbreak to an unvaccinated traveller.",
        "2026-09-20T10:00:00Z",
        published=False,
    )
    theirs = await add(
        store,
        "theirs",
        "Measles: Dunmore County outbreak grows to 48",
        "Three schools sent unvaccinated pupils home.",
        "2026-09-20T11:00:00Z",
        guild=OTHER_GUILD,
    )
    service = RelatedService(store)
    _, results = await service.for_story(GUILD, story, limit=10)
    ids = [r.article.id for r in results]
    assert pending not in ids and theirs not in ids
    _, elsewhere = await service.for_story(OTHER_GUILD, story, limit=10)
    assert theirs in [r.article.id for r in elsewhere]


async def test_terms_remembered_as_common_change_nothing_of_what_is_found(store):
    story = await add(
        store,
        "measles",
        "Measles outbreak in Dunmore County reaches 48 cases",
        "Unvaccinated pupils have been sent home from three schools, officials said.",
        "2026-09-20T09:00:00Z",
    )
    await add(
        store,
        "dunmore",
        "Dunmore County measles cases reach 48",
        "Three schools sent unvaccinated pupils home.",
        "2026-09-20T11:00:00Z",
    )
    # "reach" is common here (4 articles hold it): below the least term_cap configurable.
    service = RelatedService(store, RelatedSettings().model_copy(update={"term_cap": 3}))
    looked_up: list[set[str]] = []
    search = store.related.candidates

    async def spy(query: CandidateQuery, weights: Weights) -> Search:
        looked_up.append({t.key for t in query.terms})
        return await search(query, weights)

    store.related.candidates = spy  # type: ignore[method-assign]
    first = [r.article.title for r in (await service.for_story(GUILD, story, limit=5))[1]]
    asked = len(looked_up)
    again = [r.article.title for r in (await service.for_story(GUILD, story, limit=5))[1]]
    assert "reach" in looked_up[0] and "reach" not in looked_up[asked]
    assert first == again
    assert first[0] == "Dunmore County measles cases reach 48"


async def test_a_story_whose_first_results_tell_nothing_of_it_still_gets_every_result(store):
    # Each article shares one word with the story: none is feedback (one word is incidental),
    # and all of them are still listed, not only the few the feedback search asked for.
    story = await add(
        store,
        "floods",
        "Floods force 12,000 from homes as Marrow River bursts its banks",
        "Kelby and Arnside were evacuated overnight as the river reached its highest level "
        "since 1911.",
        "2026-10-26T09:00:00Z",
    )
    one_word_each = {
        "marrow": ("Marrow Valley farmers count the cost of a dry spring", "Wheat is late."),
        "kelby": ("Kelby library reopens after a refit", "Readers queued from early."),
        "arnside": ("Arnside ferry timetable changes for winter", "Two crossings fewer."),
        "banks": ("Banks raise savings rates again", "Easy-access accounts pay more."),
    }
    for slug, (title, excerpt) in one_word_each.items():
        await add(store, slug, title, excerpt, "2026-10-26T08:00:00Z")
    titles = await similar(store, story)
    assert {title for title, _ in one_word_each.values()} <= set(titles)


async def test_a_name_one_outlet_hyphenates_finds_the_others_solid_spelling(store):
    story = await add(
        store,
        "sorry",
        "Sky-Lane says sorry, offers a week's credit",
        "Every affected subscriber will get seven days of service free, the firm said.",
        "2026-09-16T09:00:00Z",
    )
    await add(
        store,
        "outage",
        "Skylane outage leaves 2 million without internet",
        "The satellite broadband provider blamed a faulty software update.",
        # the evening before: the outage and the apology are hours apart, as coverage is
        "2026-09-15T22:00:00Z",
    )
    await add(
        store,
        "lane",
        "Highway lane closures end ahead of schedule",
        "Drivers can use both carriageways again from Friday.",
        "2026-09-16T07:00:00Z",
    )
    assert (await similar(store, story))[0] == "Skylane outage leaves 2 million without internet"


async def test_a_figure_written_in_words_with_a_point_is_the_figure(store):
    story = await add(
        store,
        "wakeup",
        "Out-of-work numbers 'a wake-up call', unions say",
        "Union leaders blamed the rise in joblessness to five-point-four per cent on energy "
        "prices.",
        "2026-09-04T15:00:00Z",
    )
    await add(
        store,
        "rate",
        "Unemployment hits 5.4%, highest since 2022",
        "The statistics office said 61,000 jobs went in August.",
        "2026-09-04T09:00:00Z",
    )
    await add(
        store,
        "pay",
        "Energy suppliers to cut bills in spring",
        "Households should see smaller bills from April.",
        "2026-09-04T10:00:00Z",
    )
    _, results = await RelatedService(store).for_story(GUILD, story, limit=5)
    first = results[0]
    assert first.article.title == "Unemployment hits 5.4%, highest since 2022"
    assert "shared terms: five-point-four per cent" in first.reason
    # the filler's "rise reaches 4%" is not the story's 5.4%
    assert not any("four per cent" in r.reason for r in results[1:])


async def test_an_excerpt_s_later_words_find_coverage_that_shares_no_other(store):
    # The story's 26 terms, heaviest first (its headline's and names, then its excerpt's by
    # key): the other outlet's piece shares only the 22nd to 26th, past the 16 once searched.
    story = await add(
        store,
        "glassblowers",
        "Kilnworth glassblowers extend strike",
        "Furnace crews at the Abbey Lane works demand better ladders, canteen meals, helmets, "
        "gloves, overtime and pensions; managers offer only vouchers, and the yardmen vow to "
        "keep picketing until Christmas.",
        "2026-11-02T09:00:00Z",
    )
    await add(
        store,
        "yardmen",
        "Yardmen turn down vouchers and vow to go on picketing",
        "The men who move sand and soda ash by hand say the vouchers are worth less than a shift.",
        "2026-11-03T08:00:00Z",
        outlet="gazette",
    )
    found = await similar(store, story)
    assert found[0] == "Yardmen turn down vouchers and vow to go on picketing"
