"""Small defects found on the walk of the live desk (issue #11): the category tree reads as a
tree in the route form, and pages say which time zone their times are in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.models import Category
from workspace.forms import RouteForm

pytestmark = pytest.mark.django_db


def test_the_route_form_shows_the_category_tree_indented():
    root = Category.add_root(code="zz-network", name="Network", name_zh="网络", is_active=True)
    root.add_child(code="zz-vpn", name="VPN", name_zh="VPN", is_active=True)
    labels = {
        label.strip("\u3000"): label for _value, label in RouteForm().fields["category"].choices
    }
    assert labels["Network"] == "Network"
    assert labels["VPN"] == "\u3000VPN"


def test_times_are_labelled_with_the_viewers_time_zone(client, desk):
    desk.tier1.time_zone = "Europe/Berlin"
    desk.tier1.save(update_fields=["time_zone"])
    client.force_login(desk.tier1)
    page = client.get(reverse("workspace:queue")).content.decode()
    assert 'data-testid="time-zone"' in page and "Europe/Berlin" in page
