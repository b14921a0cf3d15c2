"""What the queue pages keep between requests (workspace.reference, `{% memo %}`) is never
shown stale or to the wrong person: a renamed team, another person's permissions, name or
language, another filter choice."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.factories import TicketFactory


def _page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_renamed_team_shows_on_the_next_queue_page(client, desk):
    TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier1)
    url = reverse("workspace:queue_which", args=["team"])
    old_option = f'<option value="{desk.front.pk}">Front office</option>'
    assert old_option in _page(client, url)
    desk.front.name = "Front desk"
    desk.front.save(update_fields=["name"])
    html = _page(client, url)
    # the filter's option and the row's team cell
    assert f'<option value="{desk.front.pk}">Front desk</option>' in html
    assert 'title="Front desk · ' in html
    assert old_option not in html and 'title="Front office · ' not in html


def test_the_menu_follows_each_persons_permissions_and_section(client, desk):
    verify = reverse("workspace:queue_which", args=["verify"])
    team = reverse("workspace:queue_which", args=["team"])
    for _ in range(2):  # the second round is served from what the first one kept
        client.force_login(desk.expert)  # verifies back-office fixes
        html = _page(client, reverse("workspace:queue"))
        assert f'href="{verify}"' in html
        assert f'aria-current="page" href="{reverse("workspace:queue")}"' in html
        client.force_login(desk.tier1)
        html = _page(client, team)
        assert f'href="{verify}"' not in html
        assert f'aria-current="page" href="{team}"' in html


def test_the_user_menu_names_each_person_and_the_page_its_language(client, desk):
    desk.tier1.language = "zh-hans"
    desk.tier1.save(update_fields=["language"])
    with translation.override("zh-hans"):
        my_tickets_zh = gettext("My tickets")
    assert my_tickets_zh != "My tickets"
    for _ in range(2):
        client.force_login(desk.expert)
        html = _page(client, reverse("workspace:queue"))
        assert ">expert · <span" in html and ">tier1 · <span" not in html
        assert ">My tickets</a>" in html
        client.force_login(desk.tier1)
        html = _page(client, reverse("workspace:queue"))
        assert ">tier1 · <span" in html and ">expert · <span" not in html
        assert f">{my_tickets_zh}</a>" in html


def test_a_chosen_filter_is_shown_chosen_only_while_chosen(client, desk):
    client.force_login(desk.tier1)
    url = reverse("workspace:queue_which", args=["all"])
    chosen = f'<option value="{desk.front.pk}" selected>Front office</option>'
    assert chosen not in _page(client, url)
    assert chosen in _page(client, url, team=desk.front.pk)
    assert chosen not in _page(client, url, priority="P2")
    assert chosen in _page(client, url, team=desk.front.pk)
