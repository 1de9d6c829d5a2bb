from django.urls import path

from yizhan.locator import views

app_name = "locator"
urlpatterns = [path("", views.index, name="index")]
