"""Demo social data for the embedded default: demo accounts (labelled "demo data") on the client
restaurants, two years of daily metrics for the demo community manager's restaurants, reviews
with their tasks, and posts in every state."""

import datetime as dt
import random

from django.utils import timezone

from accounts.models import User
from crm.enums import RestaurantStatus
from crm.models import Restaurant
from sales.enums import Network
from social import services
from social.enums import PostStatus, PublicationState
from social.models import Post, Publication, SocialAccount

# Restaurants of the demo community manager that get two years of history (the others get the
# last weeks, as the daily job would have fetched them).
FULL_HISTORY = 8
POSTS = [
    "Nouveau menu de saison : venez goûter nos plats d'automne ! 🍂",
    "Ce soir, soirée jazz en terrasse à partir de 20 h. Réservez vite !",
    "Merci à tous pour vos avis, vous êtes formidables ❤️",
    "Le brunch du dimanche est de retour, de 11 h à 15 h.",
    "Notre chef vous présente le plat du jour : filet de bar et légumes du marché.",
]


def seed() -> int:
    """Create the demo social data once; returns the number of accounts created now."""
    if SocialAccount.objects.filter(demo=True).exists():
        return 0
    manager = User.objects.filter(username="community_manager").first()
    if manager is None:
        return 0
    rng = random.Random(2028)
    today = timezone.localdate()
    clients = list(
        Restaurant.objects.filter(status=RestaurantStatus.CLIENT, community_manager__isnull=False)
        .order_by("pk")
        .select_related("community_manager", "review_manager")[:60]
    )
    created = 0
    own = 0
    for index, restaurant in enumerate(clients):
        networks = [Network.FACEBOOK, Network.INSTAGRAM, Network.GOOGLE]
        if index % 3 == 0:
            networks.append(Network.TRIPADVISOR)
        accounts = []
        for network in networks:
            slug = f"{restaurant.pk:05d}"
            accounts.append(
                SocialAccount.objects.create(
                    restaurant=restaurant,
                    network=network,
                    external_id=f"demo-{network}-{slug}",
                    name=restaurant.name,
                    demo=True,
                )
            )
            created += 1
        full = restaurant.community_manager_id == manager.pk and own < FULL_HISTORY
        own += full
        since = today - dt.timedelta(days=730 if full else 35)
        for account in accounts:
            services.metrics_fetch(account=account, since=since, until=today - dt.timedelta(days=1))
            services.reviews_fetch(account=account, full=True)
        if restaurant.community_manager_id == manager.pk:
            _seed_posts(rng, restaurant, accounts, manager)
    return created


def _seed_posts(rng: random.Random, restaurant, accounts, manager) -> None:
    now = timezone.now()
    targets = [account for account in accounts if account.network != Network.TRIPADVISOR]
    for offset in (-20, -12, -5, 2, 5):
        text = rng.choice(POSTS)
        moment = (now + dt.timedelta(days=offset)).replace(
            hour=18 if offset % 2 else 11, minute=30, second=0, microsecond=0
        )
        post = Post.objects.create(
            restaurant=restaurant,
            text=text,
            status=PostStatus.DONE if offset < 0 else PostStatus.SCHEDULED,
            scheduled_at=moment,
            time_zone=restaurant.time_zone,
            created_by=manager,
        )
        for account in targets:
            published = offset < 0
            Publication.objects.create(
                post=post,
                account=account,
                state=PublicationState.PUBLISHED if published else PublicationState.SCHEDULED,
                due_at=moment,
                attempts=1 if published else 0,
                published_at=moment if published else None,
                external_id=f"demo-{post.pk}-{account.pk}" if published else "",
            )
    draft = Post.objects.create(
        restaurant=restaurant,
        text=rng.choice(POSTS),
        created_by=manager,
        time_zone=restaurant.time_zone,
    )
    for account in targets:
        Publication.objects.create(post=draft, account=account, state=PublicationState.DRAFT)
