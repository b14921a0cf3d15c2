"""Forms of the alerts app (the admin's mapping rule form)."""

from __future__ import annotations

from django import forms

from .mapping import validate_matchers
from .models import MappingRule


class MappingRuleForm(forms.ModelForm):
    class Meta:
        model = MappingRule
        fields = [
            "name", "integration", "order", "matchers", "system", "module", "request_type",
            "team", "impact", "urgency", "is_active",
        ]  # fmt: skip

    def clean_matchers(self):
        matchers = self.cleaned_data["matchers"]
        validate_matchers(matchers)
        return matchers
