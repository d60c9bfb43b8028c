from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县（市、区）")


class Role(models.TextChoices):
    PROVINCE_STAFF = "province_staff", _("省总工会基层工作部")
    CITY_STAFF = "city_staff", _("市总工会")
    COUNTY_STAFF = "county_staff", _("县（市、区）总工会")
    UNION_OFFICER = "union_officer", pgettext_lazy("role", "基层工会")
    AUDITOR = "auditor", _("经审 / 外部系统")


class OrgForm(models.TextChoices):
    REGIONAL_FEDERATION = "regional_federation", _("区域性工会联合会")
    INDUSTRY_FEDERATION = "industry_federation", _("行业性工会联合会")
    JOINT_UNION = "joint_union", _("联合工会")
    ENTERPRISE_UNION = "enterprise_union", _("单独建会")
    OTHER = "other", _("其他")


class ParentLevel(models.TextChoices):
    COUNTY = "county", _("县级总工会")
    TOWNSHIP = "township", _("乡镇（街道）工会")
    CITY = "city", _("市总工会直属")


class WorkerGroup(models.TextChoices):
    TRUCK_DRIVER = "truck_driver", _("货车司机")
    RIDE_HAILING = "ride_hailing", _("网约车司机")
    COURIER = "courier", _("快递员")
    FOOD_DELIVERY = "food_delivery", _("外卖配送员")
    CARE_WORKER = "care_worker", _("护工护理员")
    DOMESTIC_WORKER = "domestic_worker", _("家政服务员")
    MALL_INFO = "mall_info", _("商场信息员")
    ESTATE_AGENT = "estate_agent", _("房产中介员")
    SECURITY_GUARD = "security_guard", _("保安员")
    OTHER_NEW = "other_new", _("其他新就业形态")


class UnionStatus(models.TextChoices):
    PENDING = "pending", _("待核实")
    VERIFIED = "verified", _("已核实")
    SUSPENDED = "suspended", _("已暂停")
    DISSOLVED = "dissolved", _("已撤销")


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")
