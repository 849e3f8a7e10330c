from django import forms

from recalldesk.registry.choices import ImportKind


class ImportForm(forms.Form):
    """Upload of one registry file."""

    kind = forms.ChoiceField(choices=ImportKind.choices, label="What the file holds")
    file = forms.FileField(
        label="CSV or Excel file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    import_valid_rows = forms.BooleanField(
        required=False,
        label="If some rows have errors, import the valid rows anyway",
        help_text="Left unticked, a file with any error changes nothing.",
    )
