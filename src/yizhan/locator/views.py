from django.shortcuts import render


def index(request):
    # Placeholder until the public locator (issue 4) lands here.
    return render(request, "locator/index.html")
