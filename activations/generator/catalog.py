"""The shop's product catalogue: about 300 grocery and household products.

Food and non-food, realistic prices per subcategory, about 7% out of stock,
and replenishable staples (coffee, pet food, detergent, diapers, ...) that
people re-buy on a cycle of 14 to 60 days.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

SHOP_URL = "https://shop.example.com"
CDN_URL = "https://cdn.example.com/img"


@dataclass(frozen=True)
class Subcategory:
    category: str  # food | non-food
    name: str
    items: tuple[str, ...]
    brands: tuple[str, ...]
    sizes: tuple[str, ...]
    median_price: float
    count: int
    cycle_days: tuple[int, int] | None = None  # replenishable: re-bought every lo..hi days


SUBCATEGORIES: tuple[Subcategory, ...] = (
    Subcategory(
        "food",
        "coffee",
        ("Espresso Beans", "Ground Coffee", "Coffee Capsules", "Decaf Beans"),
        ("Lavazza", "Illy", "Tchibo", "Jacobs", "Segafredo"),
        ("250 g", "500 g", "1 kg"),
        8.9,
        18,
        (21, 35),
    ),
    Subcategory(
        "food",
        "tea",
        ("Green Tea", "Earl Grey", "Herbal Tea", "Rooibos"),
        ("Twinings", "Teekanne", "Pukka"),
        ("20 bags", "50 bags"),
        3.5,
        10,
        (30, 45),
    ),
    Subcategory(
        "food",
        "pet food",
        ("Dry Cat Food", "Wet Dog Food", "Dry Dog Food", "Cat Treats"),
        ("Purina", "Whiskas", "Pedigree", "Royal Canin"),
        ("400 g", "2 kg", "4 kg", "12 x 85 g"),
        12.5,
        20,
        (25, 35),
    ),
    Subcategory(
        "food",
        "baby food",
        ("Infant Formula", "Fruit Puree", "Baby Porridge"),
        ("Hipp", "Nutrilon", "Bebivita"),
        ("800 g", "190 g", "250 g"),
        9.9,
        10,
        (14, 21),
    ),
    Subcategory(
        "food",
        "fruit & vegetables",
        ("Bananas", "Apples", "Tomatoes", "Avocados", "Carrots", "Lemons"),
        ("Farm Fresh", "Bio Garden"),
        ("1 kg", "500 g", "4 pcs"),
        2.4,
        24,
    ),
    Subcategory(
        "food",
        "dairy",
        ("Whole Milk", "Greek Yogurt", "Butter", "Cheddar", "Mozzarella"),
        ("Alpro", "Danone", "Milbona", "Meggle"),
        ("1 l", "500 g", "250 g", "125 g"),
        2.2,
        22,
    ),
    Subcategory(
        "food",
        "bakery",
        ("Sourdough Bread", "Croissants", "Rye Bread", "Bagels"),
        ("Harry's", "Bakery Co"),
        ("500 g", "4 pcs", "750 g"),
        2.6,
        12,
    ),
    Subcategory(
        "food",
        "pantry",
        ("Spaghetti", "Basmati Rice", "Olive Oil", "Tomato Sauce", "Chickpeas"),
        ("Barilla", "De Cecco", "Uncle Ben's", "Mutti"),
        ("500 g", "1 kg", "750 ml", "400 g"),
        2.9,
        24,
    ),
    Subcategory(
        "food",
        "breakfast cereal",
        ("Muesli", "Corn Flakes", "Granola", "Porridge Oats"),
        ("Kellogg's", "Nestle", "Emco"),
        ("375 g", "750 g"),
        3.9,
        10,
        (21, 30),
    ),
    Subcategory(
        "food",
        "snacks",
        ("Dark Chocolate", "Crisps", "Salted Nuts", "Biscuits"),
        ("Lindt", "Milka", "Pringles", "Lay's"),
        ("100 g", "200 g", "150 g"),
        2.8,
        20,
    ),
    Subcategory(
        "food",
        "beverages",
        ("Sparkling Water", "Orange Juice", "Cola", "Craft Beer", "Red Wine"),
        ("Mattoni", "Rauch", "Coca-Cola", "Pilsner Urquell", "Casillero"),
        ("6 x 1.5 l", "1 l", "0.5 l", "0.75 l"),
        4.5,
        22,
    ),
    Subcategory(
        "food",
        "frozen",
        ("Frozen Pizza", "Ice Cream", "Frozen Berries", "Fish Fingers"),
        ("Dr. Oetker", "Ben & Jerry's", "Iglo"),
        ("350 g", "500 ml", "300 g"),
        4.2,
        12,
    ),
    Subcategory(
        "non-food",
        "detergent",
        ("Laundry Detergent", "Washing Capsules", "Fabric Softener"),
        ("Persil", "Ariel", "Lenor"),
        ("2.5 l", "40 pcs", "1.8 l"),
        11.9,
        10,
        (45, 60),
    ),
    Subcategory(
        "non-food",
        "cleaning",
        ("Dish Soap", "Dishwasher Tablets", "All-Purpose Cleaner", "Sponges"),
        ("Jar", "Finish", "Cif", "Scotch-Brite"),
        ("500 ml", "60 pcs", "750 ml", "10 pcs"),
        5.9,
        14,
        (30, 45),
    ),
    Subcategory(
        "non-food",
        "diapers",
        ("Diapers Size 3", "Diapers Size 4", "Diapers Size 5", "Baby Wipes"),
        ("Pampers", "Huggies", "Libero"),
        ("52 pcs", "88 pcs", "4 x 64 pcs"),
        16.9,
        10,
        (14, 21),
    ),
    Subcategory(
        "non-food",
        "household paper",
        ("Toilet Paper", "Kitchen Towels", "Tissues"),
        ("Zewa", "Tempo", "Regina"),
        ("8 rolls", "16 rolls", "4 rolls"),
        5.4,
        8,
        (30, 40),
    ),
    Subcategory(
        "non-food",
        "personal care",
        ("Shampoo", "Shower Gel", "Toothpaste", "Deodorant", "Razor Blades"),
        ("Nivea", "Dove", "Colgate", "Gillette", "Elmex"),
        ("250 ml", "400 ml", "75 ml", "8 pcs"),
        4.9,
        22,
        (40, 60),
    ),
    Subcategory(
        "non-food",
        "kitchen",
        ("Chef's Knife", "Non-Stick Pan", "Cutting Board", "Food Containers"),
        ("Tefal", "Fiskars", "WMF", "IKEA"),
        ("24 cm", "set of 3", "28 cm"),
        24.0,
        14,
    ),
    Subcategory(
        "non-food",
        "home",
        ("Scented Candle", "Storage Box", "Bath Towel", "LED Bulb"),
        ("Yankee", "Philips", "Home Basics"),
        ("large", "2 pcs", "60 W"),
        12.0,
        14,
    ),
    Subcategory(
        "non-food",
        "pet supplies",
        ("Cat Litter", "Dog Leash", "Pet Bowl", "Chew Toy"),
        ("Catsan", "Trixie", "Kong"),
        ("10 l", "medium", "large"),
        9.5,
        10,
    ),
    Subcategory(
        "non-food",
        "electronics",
        ("AA Batteries", "USB-C Cable", "Phone Charger", "Earbuds"),
        ("Duracell", "Anker", "Sony", "Varta"),
        ("4 pcs", "1 m", "20 W"),
        14.0,
        10,
    ),
    Subcategory(
        "non-food",
        "toys",
        ("Building Blocks", "Puzzle 500 pcs", "Board Game", "Plush Bear"),
        ("LEGO", "Ravensburger", "Hasbro"),
        ("small", "family edition"),
        19.0,
        10,
    ),
)


@dataclass(frozen=True)
class Catalog:
    """Products as columns (index = product number)."""

    product_id: np.ndarray  # object (str)
    sku: np.ndarray
    name: np.ndarray
    slug: np.ndarray
    category: np.ndarray
    subcategory: np.ndarray
    price: np.ndarray  # float64, 2 decimals
    in_stock: np.ndarray  # bool
    replenish_cycle_days: np.ndarray  # int64, 0 when not replenishable
    popularity: np.ndarray  # float64, sums to 1
    subcategory_index: np.ndarray  # int64, into SUBCATEGORIES
    in_stock_alternative: np.ndarray  # int64: this product if in stock, else a sibling in stock

    def __len__(self) -> int:
        return len(self.product_id)

    @property
    def replenishable(self) -> np.ndarray:
        return self.replenish_cycle_days > 0

    def image_url(self, i: int) -> str:
        return f"{CDN_URL}/{self.sku[i].lower()}.jpg"

    def product_url(self, i: int) -> str:
        return f"{SHOP_URL}/p/{self.slug[i]}"

    def viewed_json(self) -> list[str]:
        """The Product Viewed properties of each product (JSON text)."""
        return [
            json.dumps(
                {
                    "product_id": self.product_id[i],
                    "sku": self.sku[i],
                    "name": self.name[i],
                    "category": self.category[i],
                    "price": float(self.price[i]),
                    "url": self.product_url(i),
                    "image_url": self.image_url(i),
                },
                separators=(",", ":"),
            )
            for i in range(len(self))
        ]

    def item_head(self) -> list[str]:
        """The JSON object of a product in a cart, without its closing brace and quantity."""
        return [
            json.dumps(
                {
                    "product_id": self.product_id[i],
                    "sku": self.sku[i],
                    "name": self.name[i],
                    "price": float(self.price[i]),
                    "category": self.category[i],
                },
                separators=(",", ":"),
            )[:-1]
            for i in range(len(self))
        ]

    def added_fragment(self) -> list[str]:
        """The product keys of Product Added / Removed, as JSON members without braces."""
        return [
            json.dumps(
                {
                    "product_id": self.product_id[i],
                    "sku": self.sku[i],
                    "name": self.name[i],
                    "price": float(self.price[i]),
                },
                separators=(",", ":"),
            )[1:-1]
            for i in range(len(self))
        ]

    def table(self, updated_at_s: int) -> pa.Table:
        cycle = pa.array(
            self.replenish_cycle_days.astype(np.int32), pa.int32(), mask=~self.replenishable
        )
        return pa.table(
            {
                "product_id": pa.array(self.product_id, pa.string()),
                "sku": pa.array(self.sku, pa.string()),
                "name": pa.array(self.name, pa.string()),
                "category": pa.array(self.category, pa.string()),
                "subcategory": pa.array(self.subcategory, pa.string()),
                "price": pa.array(self.price, pa.float64()),
                "in_stock": pa.array(self.in_stock, pa.bool_()),
                "replenishable": pa.array(self.replenishable, pa.bool_()),
                "replenish_cycle_days": cycle,
                "image_url": pa.array(
                    [f"{CDN_URL}/{s.lower()}.jpg" for s in self.sku], pa.string()
                ),
                "product_url": pa.array([f"{SHOP_URL}/p/{s}" for s in self.slug], pa.string()),
                "updated_at_s": pa.array(
                    updated_at_s - (np.arange(len(self)) * 7919 % (30 * 86_400)), pa.int64()
                ),
            }
        )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def build_catalog(seed: int) -> Catalog:
    """The same catalogue for the same seed, whatever the number of customers."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0xCA7A109])))
    rows: list[tuple[str, str, str, str, float, bool, int, int]] = []
    for sub_idx, sub in enumerate(SUBCATEGORIES):
        seen: set[str] = set()
        while len([r for r in rows if r[6] == sub_idx]) < sub.count:
            name = f"{rng.choice(sub.brands)} {rng.choice(sub.items)} {rng.choice(sub.sizes)}"
            if name in seen:
                continue
            seen.add(name)
            price = round(float(sub.median_price * rng.lognormal(0.0, 0.45)), 1) - 0.01
            in_stock = bool(rng.random() > 0.07)
            cycle = (
                int(rng.integers(sub.cycle_days[0], sub.cycle_days[1] + 1)) if sub.cycle_days else 0
            )
            rows.append(
                (
                    sub.category,
                    sub.name,
                    name,
                    _slug(name),
                    max(price, 0.49),
                    in_stock,
                    sub_idx,
                    cycle,
                )
            )
    n = len(rows)
    category = np.array([r[0] for r in rows], dtype=object)
    sub_idx = np.array([r[6] for r in rows], dtype=np.int64)
    in_stock = np.array([r[5] for r in rows])
    popularity = rng.pareto(1.2, n) + 0.05  # a few best sellers
    popularity = popularity / popularity.sum()
    alternative = np.arange(n)
    for i in np.flatnonzero(~in_stock):
        siblings = np.flatnonzero((sub_idx == sub_idx[i]) & in_stock)
        alternative[i] = (
            siblings[i % len(siblings)] if len(siblings) else int(np.flatnonzero(in_stock)[0])
        )
    prefixes = np.array(["FD" if c == "food" else "NF" for c in category], dtype=object)
    return Catalog(
        product_id=np.array([f"prod_{i + 1:04d}" for i in range(n)], dtype=object),
        sku=np.array(
            [
                f"{p}-{s:02d}{i + 1:04d}"
                for i, (p, s) in enumerate(zip(prefixes, sub_idx, strict=True))
            ],
            dtype=object,
        ),
        name=np.array([r[2] for r in rows], dtype=object),
        slug=np.array([f"{r[3]}-{i + 1}" for i, r in enumerate(rows)], dtype=object),
        category=category,
        subcategory=np.array([r[1] for r in rows], dtype=object),
        price=np.round(np.array([r[4] for r in rows]), 2),
        in_stock=in_stock,
        replenish_cycle_days=np.array([r[7] for r in rows], dtype=np.int64),
        popularity=popularity,
        subcategory_index=sub_idx,
        in_stock_alternative=alternative,
    )
