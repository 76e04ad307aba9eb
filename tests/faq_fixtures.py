"""An FAQ entry of a topic the NLU never saw, with 2 vi + 1 en questions, as an editor would start it."""

WHOLESALE = """\
entries:
  - id: wholesale-pricing
    reviewed: 2026-12-02
    questions:
      vi:
        - Mua sỉ số lượng lớn thì shop có giá sỉ riêng không?
        - Em muốn lấy khoảng 50 cái áo về bán lại, shop có chiết khấu không ạ?
      en:
        - Do you give a discount if I buy in bulk to resell?
    answer:
      vi: |
        Shop có giá sỉ cho đơn từ 20 sản phẩm cùng mẫu trở lên: chiết khấu 10% từ 20 sản phẩm và 15% từ 50 sản phẩm.
      en: |
        We offer wholesale prices for orders of 20 or more pieces of the same item: 10% off from 20 pieces and 15% off from 50 pieces.
    links:
      - title:
          vi: Bảng giá sỉ
          en: Wholesale price list
        url: https://shop.example.vn/gia-si
"""
