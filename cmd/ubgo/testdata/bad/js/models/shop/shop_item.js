// An entity module with a mistake that only running it shows.
const me = shop_item
me.entity.addMethod('price')
me.price = function (ctx) {
  ctx.mParams.price = 1
}
