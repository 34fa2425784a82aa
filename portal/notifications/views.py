from django.contrib.auth.decorators import login_required
from django.template.response import TemplateResponse


@login_required
def index(request):
    return TemplateResponse(request, "notifications/index.html", {})
