from django import forms

from .models import User


class DisplayNameForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name"]
        help_texts = {"display_name": "Shown instead of your address next to your posts. Leave empty to show the address."}
