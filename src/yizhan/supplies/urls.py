from django.urls import path

from yizhan.supplies import views

app_name = "supplies"
P = "manage/supplies/"
urlpatterns = [
    path(P, views.balances, name="balances"),
    path(P + "items/", views.items, name="items"),
    path(P + "items/new/", views.item_edit, name="item_create"),
    path(P + "items/<str:code>/edit/", views.item_edit, name="item_edit"),
    path(P + "transfers/", views.transfers, name="transfers"),
    path(P + "transfers/<int:pk>/", views.transfer_detail, name="transfer"),
    path(P + "requisitions/", views.requisitions, name="requisitions"),
    path(P + "requisitions/<int:pk>/decide/", views.decide, name="decide"),
    path(P + "entries/<int:pk>/reverse/", views.reverse_entry, name="reverse"),
    path(P + "u/<str:code>/", views.unit_stock, name="unit"),
    path(P + "u/<str:code>/ledger.xlsx", views.ledger_xlsx, name="ledger_xlsx"),
    path(P + "u/<str:code>/do/<str:kind>/", views.movement, name="movement"),
    path(P + "u/<str:code>/i/<str:item_code>/", views.stock_card, name="card"),
    path(P + "u/<str:code>/i/<str:item_code>/level/", views.set_level, name="level"),
    path(P + "u/<str:code>/i/<str:item_code>/snooze/", views.snooze, name="snooze"),
]
