import factory

from accounts import services
from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    """A user; `roles=[...]` assigns roles through the service (so flags follow the roles)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    language = "fr"
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            services.user_set_roles(user=self, roles=extracted, by=None)


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Zone"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Zone {n}")
    departments = "69"
    postal_prefixes = ""


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Segment"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"segment-{n}")
    name = factory.LazyAttribute(lambda s: s.code.title())


class RestaurantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Restaurant"

    name = factory.Sequence(lambda n: f"Restaurant {n}")
    status = "prospect"
    postal_code = "69002"
    department = "69"
    city = "Lyon"
    country = "FR"

    class Params:
        client = factory.Trait(status="client", client_code=factory.Sequence(lambda n: f"C{n:05d}"))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Contact"

    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda c: f"{c.first_name}.{c.last_name}@example.com".lower())


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Activity"

    kind = "note"
    subject = factory.Sequence(lambda n: f"Entry {n}")
