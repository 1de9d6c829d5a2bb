import pytest

pytestmark = pytest.mark.browser


def test_login_page_renders_in_chinese(page, transactional_db):
    page.goto("/manage/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("button", name="登录").is_visible()
