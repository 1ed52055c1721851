"""Where Cloud Storage buckets and Azure storage accounts can live, so a typo is refused at plan time
(`us-centrl1`, `westeruope`) instead of failing `pulumi up` halfway. AWS regions come from pulumi-aws's
own Region enum; neither pulumi-gcp nor azure-native ships such a list, so these are kept here.

A region added after the dates below is refused until the list is updated; the error says so.
"""

# https://cloud.google.com/storage/docs/locations (regions, predefined dual-regions, multi-regions),
# as listed in 2025 plus asia-southeast3 from the storage pricing page; checked 2026-12-02.
GCS_LOCATIONS_AS_OF = "2026-12"
GCS_MULTI_REGIONS = ("US", "EU", "ASIA")
GCS_DUAL_REGIONS = ("ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4")
GCS_REGIONS = (
    "africa-south1",
    "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1", "asia-south2",
    "asia-southeast1", "asia-southeast2", "asia-southeast3",
    "australia-southeast1", "australia-southeast2",
    "europe-central2", "europe-north1", "europe-north2", "europe-southwest1", "europe-west1", "europe-west2", "europe-west3",
    "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west10", "europe-west12",
    "me-central1", "me-central2", "me-west1",
    "northamerica-northeast1", "northamerica-northeast2", "northamerica-south1",
    "southamerica-east1", "southamerica-west1",
    "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4",
)
GCS_LOCATIONS = (*GCS_MULTI_REGIONS, *GCS_DUAL_REGIONS, *GCS_REGIONS)

# The public cloud's physical regions, from `az account list-locations` (Azure/terraform-azurerm-avm-utl-regions,
# modules/cached-data/locations.tf.json, data of 2026-03-12), without the canary and staging ones
# (centraluseuap, eastus2euap, eastusstg, southcentralusstg) and the logical names (`europe`, `global`...).
AZURE_LOCATIONS_AS_OF = "2026-03"
AZURE_LOCATIONS = (
    "australiacentral", "australiacentral2", "australiaeast", "australiasoutheast", "austriaeast",
    "belgiumcentral", "brazilsouth", "brazilsoutheast",
    "canadacentral", "canadaeast", "centralindia", "centralus", "chilecentral",
    "denmarkeast",
    "eastasia", "eastus", "eastus2",
    "francecentral", "francesouth",
    "germanynorth", "germanywestcentral",
    "indonesiacentral", "israelcentral", "italynorth",
    "japaneast", "japanwest", "jioindiacentral", "jioindiawest",
    "koreacentral", "koreasouth",
    "malaysiawest", "mexicocentral",
    "newzealandnorth", "northcentralus", "northeurope", "norwayeast", "norwaywest",
    "polandcentral",
    "qatarcentral",
    "southafricanorth", "southafricawest", "southcentralus", "southeastasia", "southindia", "spaincentral",
    "swedencentral", "switzerlandnorth", "switzerlandwest",
    "uaecentral", "uaenorth", "uksouth", "ukwest",
    "westcentralus", "westeurope", "westindia", "westus", "westus2", "westus3",
)
