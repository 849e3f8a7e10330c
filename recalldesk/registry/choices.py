"""Choices for the registry, defined once and used by models, forms and templates."""

from django.db import models


class PartyRole(models.TextChoices):
    CONSUMER = "consumer", "Consumer"
    CONSIGNEE = "consignee", "Consignee"


class ConsigneeKind(models.TextChoices):
    MANUFACTURER = "manufacturer", "Manufacturer"
    DISTRIBUTOR = "distributor", "Distributor"
    WHOLESALER = "wholesaler", "Wholesaler"
    RETAILER = "retailer", "Retailer"
    DEALER = "dealer", "Dealer"
    OTHER = "other", "Other"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice call"
    LETTER = "letter", "Postal letter"
    PHONE = "phone", "Phone call"


class HoldingKind(models.TextChoices):
    UNIT = "unit", "Product units"
    SERVICE = "service", "Service account"


class HoldingSource(models.TextChoices):
    ORDER = "order", "Order"
    REGISTRATION = "registration", "Registration"
    LOYALTY = "loyalty", "Loyalty programme"
    SHIPMENT = "shipment", "Shipment"
    WARRANTY = "warranty", "Warranty card"
    SUBSCRIPTION = "subscription", "Subscription"
    OTHER = "other", "Other"


class ImportKind(models.TextChoices):
    PRODUCTS = "products", "Products"
    CUSTOMERS = "customers", "Customers"
    CONSIGNEES = "consignees", "Consignees"
    HOLDINGS = "holdings", "Holdings"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    VALIDATING = "validating", "Checking rows"
    REJECTED = "rejected", "Has errors: nothing imported"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"
