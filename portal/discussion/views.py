from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from .models import Category, Thread


def index(request):
    return TemplateResponse(request, "discussion/index.html", {})


def category(request, slug):
    category = get_object_or_404(Category, slug=slug)
    return TemplateResponse(request, "discussion/index.html", {"category": category})


def thread(request, pk):
    thread = get_object_or_404(Thread, pk=pk)
    return TemplateResponse(request, "discussion/index.html", {"thread": thread})
