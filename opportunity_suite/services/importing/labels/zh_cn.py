"""Vtiger's Potentials export headers in Simplified Chinese (zh_cn language pack, 7.x):
`languages/zh_cn/Potentials.php` first, then `languages/zh_cn/Vtiger.php`. Header → Opportunity
fieldname; None: offered as ignored. Picklist values (sales stage, type, lead source) are exported
untranslated, so only the headers need a table."""

LABELS = {
	"销售机会名称": "opportunity_name",  # Potential Name
	"客户名称": "organization",  # Related To
	"关联于": "organization",
	"联系人姓名": "contact",  # Contact Name (Potentials.php)
	"联系人": "contact",  # Contact Name (Vtiger.php)
	"金额": "amount",
	"类型": "opportunity_type",
	"预计关闭日期": "expected_close_date",
	"线索来源": "lead_source",
	"下一步": "next_step",
	"指派给": "assigned_to",
	"销售阶段": "sales_stage",
	"营销活动来源": "campaign",  # Campaign Source
	"成交概率": "probability",
	"描述": "description",
	# offered as ignored
	"销售机会编号": None,  # Potential No
	"预测总额(金额*成交概率)": None,  # Forecast Amount
	"创建时间": None,
	"修改时间": None,
	"最后修订者": None,
	"是否由潜在客户转换而来": None,  # Is Converted From Lead
	"来源": None,  # Source
	"标签": None,  # Tags
}
