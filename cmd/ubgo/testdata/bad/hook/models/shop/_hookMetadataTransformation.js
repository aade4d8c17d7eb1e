module.exports = function (domainJSON) {
  const item = domainJSON.shop_item
  if (!item.meta.attributes.some(a => a.name === 'price')) {
    throw new Error('shop_item must define price')
  }
}
