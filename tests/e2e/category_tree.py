"""A small product category tree (32 categories, 5 roots) and queries with the leaf
category each should get."""

from __future__ import annotations

# id -> (parent id, text embedded for the category)
CATEGORIES: dict[str, tuple[str | None, str]] = {
    "electronics": (None, "Electronics: gadgets and consumer electronic devices"),
    "computers": ("electronics", "Computers: desktop PCs and laptop computers"),
    "laptops": ("computers", "Laptops: notebook computers, gaming laptops, ultrabooks"),
    "computer_accessories": (
        "computers",
        "Computer accessories: keyboards, computer mice, monitors, webcams",
    ),
    "phones": ("electronics", "Mobile phones: smartphones and cell phones"),
    "phone_cases": ("phones", "Phone cases: smartphone covers and screen protectors"),
    "audio": ("electronics", "Audio: sound equipment, music listening devices"),
    "headphones": ("audio", "Headphones: wireless earbuds, noise cancelling headsets"),
    "speakers": ("audio", "Speakers: bluetooth speakers, soundbars, smart speakers"),
    "cameras": ("electronics", "Cameras: digital cameras, camera lenses, photography gear"),
    "tv": ("electronics", "Televisions: smart TVs, 4K TV screens, home theater"),
    "clothing": (None, "Clothing and fashion: apparel, shoes and accessories"),
    "shoes": ("clothing", "Shoes: footwear for men and women"),
    "running_shoes": ("shoes", "Running shoes: running sneakers, trail runners, jogging trainers"),
    "boots": ("shoes", "Boots: winter boots, hiking boots, leather boots"),
    "mens_clothing": ("clothing", "Men's clothing: shirts, trousers, jackets for men"),
    "womens_clothing": ("clothing", "Women's clothing: blouses, skirts, tops for women"),
    "dresses": ("womens_clothing", "Dresses: evening dresses, summer dresses, gowns"),
    "jewelry": ("clothing", "Jewelry: necklaces, rings, earrings, bracelets"),
    "home_kitchen": (None, "Home and kitchen: household goods for the house"),
    "kitchen_appliances": (
        "home_kitchen",
        "Kitchen appliances: blenders, toasters, microwaves",
    ),
    "coffee_makers": (
        "kitchen_appliances",
        "Coffee makers: espresso machines, coffee machines, drip brewers",
    ),
    "cookware": ("home_kitchen", "Cookware: pots, frying pans, saucepans"),
    "furniture": ("home_kitchen", "Furniture: tables, chairs, shelves for the home"),
    "sofas": ("furniture", "Sofas: couches, sectional sofas, loveseats"),
    "bedding": ("home_kitchen", "Bedding: bed sheets, pillows, duvets, blankets"),
    "sports_outdoors": (None, "Sports and outdoors: sporting goods and outdoor recreation"),
    "camping": ("sports_outdoors", "Camping: tents, sleeping bags, camping stoves"),
    "cycling": ("sports_outdoors", "Cycling: bicycles, bike helmets, mountain bikes"),
    "fitness": ("sports_outdoors", "Fitness: gym equipment, dumbbells, yoga mats"),
    "toys": (None, "Toys and games: toys for kids and family games"),
    "board_games": ("toys", "Board games: chess sets, card games, strategy board games"),
}

# query -> the leaf category it is about
QUERIES: dict[str, str] = {
    "noise cancelling wireless earbuds": "headphones",
    "lightweight trail running sneakers": "running_shoes",
    "espresso machine for home baristas": "coffee_makers",
    "two person tent for a camping trip": "camping",
    "gaming laptop with a fast graphics card": "laptops",
    "red summer dress": "dresses",
    "a chess set for two players": "board_games",
    "king size duvet and pillows": "bedding",
}


def ancestors(category_id: str) -> list[str]:
    found = []
    parent = CATEGORIES[category_id][0]
    while parent is not None:
        found.append(parent)
        parent = CATEGORIES[parent][0]
    return found


def root_of(category_id: str) -> str:
    chain = ancestors(category_id)
    return chain[-1] if chain else category_id
