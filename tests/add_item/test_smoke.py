def test_add_item_takes_stock(client, new_user, admin):
    product = admin.create_product(stock=5)
    user, token = new_user()
    response = client("add_item").post(
        "/", json={"product_id": product, "quantity": 2}, headers={"Authorization": token}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"product_id": product, "quantity": 2}
    assert admin.stock(product) == 3
    assert admin.in_cart(user, product) == 2
