from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _activate_contracts(sender, restaurant, by, **kwargs) -> None:
    from sales.services import contracts_activate

    contracts_activate(restaurant=restaurant)


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from crm.signals import restaurant_converted

        # A prospect's draft contracts start counting when the accountant validates the client.
        restaurant_converted.connect(_activate_contracts, dispatch_uid="sales.activate_contracts")
