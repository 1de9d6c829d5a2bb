from django.urls import path

from yizhan.core import views

app_name = "core"
urlpatterns = [path("prefs/large-text/", views.large_text, name="large_text")]
